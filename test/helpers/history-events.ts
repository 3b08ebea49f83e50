/**
 * Reading recorded histories: both the JSON files the Temporal CLI exports (payload data in base64)
 * and the objects fetchHistory() returns (payload data as bytes).
 */
export interface HistoryEventLike {
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null;
  markerRecordedEventAttributes?: {
    markerName?: string | null;
    details?: Record<string, { payloads?: { data?: string | Uint8Array | null }[] | null }> | null;
  } | null;
}

/** The activity a local activity's marker records, from the marker's own data payload. */
function localActivityType(event: HistoryEventLike): string | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  for (const payload of marker.details?.data?.payloads ?? []) {
    const data = payload.data;
    if (!data) continue;
    const text = (typeof data === 'string' ? Buffer.from(data, 'base64') : Buffer.from(data)).toString(
      'utf8',
    );
    try {
      const type = (JSON.parse(text) as { activity_type?: unknown }).activity_type;
      if (typeof type === 'string') return type;
    } catch {
      // Not the marker's metadata payload.
    }
  }
  return undefined;
}

/** The activity an event schedules, as an activity or as a local activity. */
export function scheduledActivity(event: HistoryEventLike): string | undefined {
  return event.activityTaskScheduledEventAttributes?.activityType?.name ?? localActivityType(event);
}

/** A monitoring poll's read, as an activity (before one-window-loop) or a local activity (after). */
export function isMetricRead(event: HistoryEventLike): boolean {
  return scheduledActivity(event) === 'readMetrics';
}
