import { requestJson } from '../http-json';
import type { DesiredSplit, TrafficRouter, TrafficSplit } from './types';

/** The embedded router (src/router), driven through its loopback admin API. */
export class EmbeddedTrafficRouter implements TrafficRouter {
  constructor(private readonly adminUrl: string) {}

  setSplit(split: DesiredSplit): Promise<TrafficSplit> {
    return requestJson<TrafficSplit>(new URL('/admin/split', this.adminUrl).href, {
      method: 'PUT',
      body: split,
    });
  }

  getSplit(): Promise<TrafficSplit> {
    return requestJson<TrafficSplit>(new URL('/admin/split', this.adminUrl).href);
  }
}
