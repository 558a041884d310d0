import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Request, Response } from 'express';

/** A redirect after an action: htmx follows HX-Redirect (a 204), a plain form a 303. */
export function seeOther(req: Request, res: Response, url: string): void {
  if (req.get('HX-Request')) res.set('HX-Redirect', url).status(204).end();
  else res.redirect(303, url);
}

/** The reason an update's validator or handler refused with (its ApplicationFailure message), or a generic one. */
export function refusal(error: unknown, fallback = 'Hook could not do that just now. Try again in a moment.'): string {
  if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) return error.cause.message;
  if (error instanceof WorkflowUpdateFailedError && error.cause?.cause instanceof ApplicationFailure) return error.cause.cause.message;
  return fallback;
}
