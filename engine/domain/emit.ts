/** An event as Veer's own producers hand it over; the events bus assigns id and timestamp. */
export interface EmittedEvent {
  tags: string[];
  type: string;
  value?: unknown;
  /** Events about a run carry what the run causes (`hopsCausedBy(run.trigger)`), so loops through them end too. Default 0. */
  hops?: number;
}

/** Publishes one of Veer's own events (source `veer`) through the one events path (API, triggers, SSE). Never throws. */
export type EmitEvent = (event: EmittedEvent) => Promise<void>;
