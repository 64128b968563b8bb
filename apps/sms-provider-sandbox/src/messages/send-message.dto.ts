import { HttpStatus } from '@nestjs/common';
import {
  analyzeMessage,
  isE164,
  MAX_MESSAGE_LENGTH,
  type MessageAnalysis,
} from '@app/sms-provider';
import { invalidParameter, missingParameter, SandboxError } from '../common/sandbox-error';
import { parseHttpUrl } from '../common/parse-http-url';

/** A validated POST /v1/messages body (provider-api.md, "Sending SMS Messages"). */
export interface SendMessageCommand {
  to: string[];
  /** `to` was an array: the answer and GET then list every recipient. */
  batch: boolean;
  text: string;
  analysis: MessageAnalysis;
  from: string | null;
  scheduledAt: number | null;
  callbackUrl: string | null;
}

export const MAX_RECIPIENTS = 1000;
const MAX_SENDER_LENGTH = 32;

// Date.parse alone accepts "Dec 1 2026" and other non-ISO forms; the provider asks for ISO 8601
// with an explicit offset, since a bare local time means something different on every server.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseRecipients(value: unknown): string[] {
  if (value === undefined || value === null) throw missingParameter('to');
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw invalidParameter('to', 'must list at least one phone number');
  if (list.length > MAX_RECIPIENTS) {
    throw invalidParameter('to', `must list at most ${MAX_RECIPIENTS} phone numbers`);
  }
  for (const item of list) {
    if (typeof item !== 'string') {
      throw invalidParameter('to', 'must be a phone number or an array of phone numbers');
    }
    if (!isE164(item)) {
      throw new SandboxError(
        HttpStatus.BAD_REQUEST,
        'invalid_phone_number',
        `Phone number format is invalid: "${item}" is not a valid number in E.164 format (e.g. +14155550100)`,
      );
    }
  }
  // A send's webhooks and statuses name a recipient by message id and number: a number listed
  // twice could not be told apart from itself.
  const seen = new Set<unknown>();
  for (const item of list) {
    if (seen.has(item)) throw invalidParameter('to', `lists "${String(item)}" more than once`);
    seen.add(item);
  }
  return list as string[];
}

function parseText(value: unknown): { text: string; analysis: MessageAnalysis } {
  if (value === undefined || value === null) throw missingParameter('message');
  if (typeof value !== 'string') throw invalidParameter('message', 'must be a string');
  if (value.length === 0) throw invalidParameter('message', 'must not be empty');
  const analysis = analyzeMessage(value);
  if (analysis.characters > MAX_MESSAGE_LENGTH) {
    throw new SandboxError(
      HttpStatus.BAD_REQUEST,
      'message_too_long',
      `Message exceeds maximum length: ${analysis.characters} characters, at most ${MAX_MESSAGE_LENGTH}`,
    );
  }
  return { text: value, analysis };
}

function parseSender(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw invalidParameter('from', 'must be a non-empty string');
  }
  if (value.length > MAX_SENDER_LENGTH) {
    throw invalidParameter('from', `must be at most ${MAX_SENDER_LENGTH} characters`);
  }
  return value;
}

function parseScheduledAt(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const time = typeof value === 'string' && ISO_8601.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) {
    throw invalidParameter(
      'scheduled_at',
      'must be an ISO 8601 timestamp with a time zone, e.g. 2026-12-01T09:00:00Z',
    );
  }
  return time;
}

/**
 * Checks a send request in the order the wire contract implies (required fields, then recipients,
 * then content) and turns the first problem into the provider's error.
 */
export function parseSendMessage(body: unknown): SendMessageCommand {
  if (!isRecord(body)) {
    throw new SandboxError(
      HttpStatus.BAD_REQUEST,
      'invalid_request',
      'The request body must be a JSON object',
    );
  }
  if (body.to === undefined || body.to === null) throw missingParameter('to');
  if (body.message === undefined || body.message === null) throw missingParameter('message');
  const to = parseRecipients(body.to);
  const { text, analysis } = parseText(body.message);
  return {
    to,
    batch: Array.isArray(body.to),
    text,
    analysis,
    from: parseSender(body.from),
    scheduledAt: parseScheduledAt(body.scheduled_at),
    callbackUrl:
      body.callback_url === undefined || body.callback_url === null
        ? null
        : parseHttpUrl('callback_url', body.callback_url),
  };
}
