/** An event as producers hand it over; the events bus assigns id and timestamp. */
export interface EmittedEvent {
  tags: string[];
  type: string;
  value?: unknown;
}

/** Publishes an event through the one events path (API, triggers, SSE). Never throws. */
export type EmitEvent = (event: EmittedEvent) => Promise<void>;
