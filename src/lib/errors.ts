// An error as a person reads it: the message, then where it came from.
// QuickJS's stack has only the frames; Node's starts with the message.

export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const head = `${e.name}: ${e.message}`;
  const stack = e.stack ?? "";
  return stack.startsWith(head) ? stack : `${head}\n${stack}`.trimEnd();
}
