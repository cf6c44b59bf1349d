package io.clearinghouse.common;

/**
 * Why a request was refused. The names are part of the API (they travel to clients as the
 * stable reason of an error) and must never be renamed; they mirror {@code clearing.v1.ErrorReason}.
 * Each reason maps to exactly one gRPC status code, in {@code api.GrpcErrors}.
 */
public enum Rejection {
  MALFORMED_AMOUNT,
  AMOUNT_NOT_POSITIVE,
  AMOUNT_TOO_PRECISE,
  AMOUNT_OVERFLOW,
  INVALID_ACCOUNT_ID,
  INVALID_IDEMPOTENCY_KEY,
  ACCOUNT_NOT_FOUND,
  INSUFFICIENT_WITHDRAWABLE,
  IDEMPOTENCY_KEY_REUSED,
  BALANCE_OVERFLOW,
  MISSING_TOKEN,
  UNKNOWN_TOKEN,
  WRONG_ROLE,
  NOT_ACCOUNT_OWNER,
  TIMEOUT
}
