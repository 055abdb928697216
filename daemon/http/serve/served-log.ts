/** One answered request, as the status page lists it. */
export interface ServedRequest {
  /** ISO time it ended. */
  at: string
  method: string
  path: string
  status: number
  /** Body bytes sent. */
  bytes: number
  client: string
}

/** What the serving port has answered: totals and the latest requests. */
export interface ServedSummary {
  requests: number
  bytes: number
  recent: ServedRequest[]
}

/** Requests the status page shows. */
const RECENT = 50

/** Counts what the serving port answers, keeping the latest RECENT requests. */
export class ServedLog {
  private requests = 0
  private bytes = 0
  private readonly recent: ServedRequest[] = []

  record(request: ServedRequest): void {
    this.requests++
    this.bytes += request.bytes
    this.recent.push(request)
    if (this.recent.length > RECENT) this.recent.shift()
  }

  summary(): ServedSummary {
    return { requests: this.requests, bytes: this.bytes, recent: [...this.recent].reverse() }
  }
}
