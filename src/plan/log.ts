// The record of why the planner decided what it did: each entry has a topic
// (the boot step it belongs to), what was decided, and its level.

export type Level = "info" | "warn" | "error";

export interface Decision {
  topic: string;
  message: string;
  level: Level;
}

export class DecisionLog {
  readonly entries: Decision[] = [];

  info(topic: string, message: string): void {
    this.entries.push({ topic, message, level: "info" });
  }

  warn(topic: string, message: string): void {
    this.entries.push({ topic, message, level: "warn" });
  }

  error(topic: string, message: string): void {
    this.entries.push({ topic, message, level: "error" });
  }

  lines(): string[] {
    return this.entries.map((e) => `${e.topic}: ${e.level === "info" ? "" : e.level.toUpperCase() + ": "}${e.message}`);
  }

  warnings(): string[] {
    return this.entries.filter((e) => e.level === "warn").map((e) => `${e.topic}: ${e.message}`);
  }
}
