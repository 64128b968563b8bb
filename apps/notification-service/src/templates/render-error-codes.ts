/** What rendering a template with a caller's variables can refuse (the renderer's error codes). */
export const RENDER_ERROR_CODES: readonly string[] = [
  'missing_variables',
  'invalid_variables',
  'message_too_long',
  'empty_message',
  'template_too_complex',
  'render_failed',
];
