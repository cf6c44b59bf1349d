package io.clearinghouse.ops.console;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.clearinghouse.api.AdminGrpcService;
import io.clearinghouse.api.GrpcErrors;
import io.clearinghouse.common.Failures;
import io.clearinghouse.common.Rejection;
import io.clearinghouse.protocol.v1.AdminListLiquidationsRequest;
import io.clearinghouse.protocol.v1.FundFlowSummaryRequest;
import io.clearinghouse.protocol.v1.GetFundUnwindRequest;
import io.clearinghouse.protocol.v1.GetInsuranceFundRequest;
import io.clearinghouse.protocol.v1.GetLiquidationRequest;
import io.clearinghouse.protocol.v1.GetReservesRequest;
import io.clearinghouse.protocol.v1.GetStressHistoryRequest;
import io.clearinghouse.protocol.v1.ListClosestToLiquidationRequest;
import io.clearinghouse.protocol.v1.ListReserveMovementsRequest;
import io.clearinghouse.protocol.v1.SetLiquidationHaltRequest;
import io.clearinghouse.protocol.v1.StressTestRequest;
import io.grpc.Status;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.grpc.javadsl.MetadataBuilder;

/**
 * The operator calls the console may make, by their gRPC method names: each runs the very method of
 * {@link AdminGrpcService} that serves it over gRPC, with the caller's own {@code Authorization}
 * header as its metadata, so the token check, the argument checks, the refusals and the amounts
 * are the API's own. Requests and answers are the call's protobuf messages in their JSON form
 * (amounts stay the API's decimal strings). Only what reads, the stress test (a what-if that writes
 * nothing) and the halt switch are here: the console opens no account and moves no money.
 */
final class AdminCalls {
  /** One call: its request's empty message and the service method. */
  record Call<I extends Message>(I prototype, BiFunction<I, Metadata, CompletionStage<? extends Message>> method) {
    CompletionStage<? extends Message> invoke(String json, Metadata metadata) throws InvalidProtocolBufferException {
      Message.Builder builder = prototype.newBuilderForType();
      JsonFormat.parser().merge(json, builder);
      @SuppressWarnings("unchecked")
      I request = (I) builder.build();
      return method.apply(request, metadata);
    }
  }

  /** A refusal as the console answers it: an HTTP status and a message led by the API's reason. */
  record Refusal(int status, String reason, String message) {}

  static final JsonFormat.Printer PRINTER = JsonFormat.printer().includingDefaultValueFields();

  private final Map<String, Call<?>> calls;

  AdminCalls(AdminGrpcService admin) {
    calls = Map.ofEntries(
        Map.entry("GetInsuranceFund", new Call<>(GetInsuranceFundRequest.getDefaultInstance(), admin::getInsuranceFund)),
        Map.entry("ListLiquidations", new Call<>(AdminListLiquidationsRequest.getDefaultInstance(),
            admin::listLiquidations)),
        Map.entry("GetLiquidation", new Call<>(GetLiquidationRequest.getDefaultInstance(), admin::getLiquidation)),
        Map.entry("GetReserves", new Call<>(GetReservesRequest.getDefaultInstance(), admin::getReserves)),
        Map.entry("ListReserveMovements", new Call<>(ListReserveMovementsRequest.getDefaultInstance(),
            admin::listReserveMovements)),
        Map.entry("FundFlowSummary", new Call<>(FundFlowSummaryRequest.getDefaultInstance(), admin::fundFlowSummary)),
        Map.entry("GetFundUnwind", new Call<>(GetFundUnwindRequest.getDefaultInstance(), admin::getFundUnwind)),
        Map.entry("StressTest", new Call<>(StressTestRequest.getDefaultInstance(), admin::stressTest)),
        Map.entry("ListClosestToLiquidation", new Call<>(ListClosestToLiquidationRequest.getDefaultInstance(),
            admin::listClosestToLiquidation)),
        Map.entry("GetRiskHistogram", new Call<>(io.clearinghouse.protocol.v1.GetRiskHistogramRequest.getDefaultInstance(),
            admin::getRiskHistogram)),
        Map.entry("GetStressHistory", new Call<>(GetStressHistoryRequest.getDefaultInstance(), admin::getStressHistory)),
        Map.entry("SetLiquidationHalt", new Call<>(SetLiquidationHaltRequest.getDefaultInstance(),
            admin::setLiquidationHalt)));
  }

  Optional<Call<?>> call(String method) {
    return Optional.ofNullable(calls.get(method));
  }

  static Metadata metadata(Optional<String> authorization) {
    MetadataBuilder builder = new MetadataBuilder();
    authorization.ifPresent(value -> builder.addText("authorization", value));
    return builder.build();
  }

  /** Runs {@code call}, answering its message as JSON or the refusal; never fails. */
  static CompletionStage<Object> run(Call<?> call, String json, Metadata metadata) {
    CompletionStage<? extends Message> answer;
    try {
      answer = call.invoke(json, metadata);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      return CompletableFuture.completedFuture(new Refusal(400, "MALFORMED_MESSAGE",
          "not a request of this call: " + clip(e.getMessage())));
    }
    return answer.<Object>thenApply(message -> message).exceptionally(AdminCalls::refusal);
  }

  /** The refusal a failed call answers: the HTTP status of its reason, as the management routes map it. */
  static Refusal refusal(Throwable failure) {
    Throwable cause = Failures.unwrap(failure);
    if (cause instanceof GrpcServiceException grpc) {
      Optional<String> reason = grpc.getMetadata().getText(GrpcErrors.REASON_TRAILER);
      String message = Optional.ofNullable(grpc.getStatus().getDescription()).orElse(grpc.getStatus().getCode().name());
      if (reason.isPresent()) {
        return new Refusal(GrpcErrors.httpStatus(Rejection.valueOf(reason.get())), reason.get(), message);
      }
      return new Refusal(grpc.getStatus().getCode() == Status.Code.UNAVAILABLE ? 503 : 500,
          grpc.getStatus().getCode().name(), message);
    }
    return new Refusal(500, "INTERNAL", "internal error");
  }

  /** At most 64 characters of anything the caller sent, as the gRPC API repeats. */
  static String clip(String text) {
    if (text == null) {
      return "";
    }
    return text.length() <= 64 ? text : text.substring(0, 64) + "...";
  }
}
