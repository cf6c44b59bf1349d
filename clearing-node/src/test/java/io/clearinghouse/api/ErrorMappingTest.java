package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.ErrorReason;
import io.grpc.Status;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every refusal reaches a client the same way: one API reason, one gRPC status, one HTTP status. */
class ErrorMappingTest {
  @Test
  void everyRejectionHasItsApiReasonAndAStatusOtherThanInternal() {
    for (Rejection reason : Rejection.values()) {
      assertEquals(reason.name(), GrpcErrors.errorReason(reason).name());
      assertNotEquals(Status.Code.INTERNAL, GrpcErrors.statusCode(reason), reason.name());
      assertNotEquals(500, GrpcErrors.httpStatus(reason), reason.name());
    }
  }

  @Test
  void everyApiReasonIsARejection() {
    Set<String> rejections = Arrays.stream(Rejection.values()).map(Enum::name).collect(Collectors.toSet());
    for (ErrorReason reason : ErrorReason.values()) {
      if (reason != ErrorReason.UNRECOGNIZED && reason.getNumber() != 0) {
        assertEquals(true, rejections.contains(reason.name()), reason + " has no Rejection");
      }
    }
  }

  @Test
  void managementRefusalsAreMappedByKind() {
    assertEquals(400, GrpcErrors.httpStatus(Rejection.UNKNOWN_INSTRUMENT));
    assertEquals(404, GrpcErrors.httpStatus(Rejection.ACCOUNT_NOT_FOUND));
    assertEquals(409, GrpcErrors.httpStatus(Rejection.TRADE_CONFLICT));
    assertEquals(503, GrpcErrors.httpStatus(Rejection.TIMEOUT));
    assertEquals(429, GrpcErrors.httpStatus(Rejection.IDEMPOTENCY_WINDOW_FULL));
  }
}
