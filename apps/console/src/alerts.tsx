/** A failure the user must notice: announced at once by screen readers (role=alert). */
export function ErrorAlert({ error }: { error: string | null }) {
  return error ? (
    <p role="alert" class="error">
      {error}
    </p>
  ) : null;
}

/** The outcome of an action, announced politely; the region exists before it fills. */
export function Notice({ text }: { text: string | null }) {
  return <div aria-live="polite">{text && <p class="notice">{text}</p>}</div>;
}
