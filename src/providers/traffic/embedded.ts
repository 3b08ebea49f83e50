import { adminAuth } from '../admin-token';
import { requestJson } from '../http-json';
import type { DesiredSplit, TrafficRouter, TrafficSplit } from './types';

/** The embedded router (src/router), driven through its admin API (with ROUTER_ADMIN_TOKEN when set). */
export class EmbeddedTrafficRouter implements TrafficRouter {
  constructor(private readonly adminUrl: string) {}

  // async: a bad token from the env then rejects like any other failure, instead of throwing.
  async setSplit(split: DesiredSplit): Promise<TrafficSplit> {
    return requestJson<TrafficSplit>(new URL('/admin/split', this.adminUrl).href, {
      method: 'PUT',
      body: split,
      ...adminAuth(),
    });
  }

  async getSplit(): Promise<TrafficSplit> {
    return requestJson<TrafficSplit>(new URL('/admin/split', this.adminUrl).href, adminAuth());
  }
}
