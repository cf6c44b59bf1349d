package io.clearinghouse.ops.console;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.completeOK;
import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.entity;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.mapRouteResultFuture;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResource;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResourceDirectory;
import static org.apache.pekko.http.javadsl.server.Directives.parameterMap;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEndOrSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeader;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeaders;
import static org.apache.pekko.http.javadsl.server.Directives.handleExceptions;
import static org.apache.pekko.http.javadsl.server.Directives.handleRejections;
import static org.apache.pekko.http.javadsl.server.Directives.withSizeLimit;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.clearinghouse.api.Authenticator;
import io.clearinghouse.api.GrpcErrors;
import io.clearinghouse.api.Principal;
import io.clearinghouse.api.Quotas;
import io.clearinghouse.api.Role;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.ops.NodeContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.http.javadsl.marshalling.sse.EventStreamMarshalling;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Complete;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.server.RouteResults;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * The operator console on the management port: the page ({@code GET /console/}, plain HTML, CSS
 * and JavaScript from the jar, with the vendored chart library) and its API under
 * {@code /console/api/}, every call of which needs the operator token exactly as the gRPC operator
 * calls do ({@code Authorization: Bearer ...}; 401 without a valid token, 403 with another role's):
 * <ul>
 *   <li>{@code GET session}: the operator's name (the sign-in form's check);</li>
 *   <li>{@code GET markets}, {@code GET markets/history?instrument=}, {@code GET cluster}: the node's
 *       own views ({@link ConsoleViews});</li>
 *   <li>{@code GET|POST admin/<Method>}: an operator gRPC call ({@link AdminCalls}), its request from
 *       the query parameters or the JSON body; {@code SetLiquidationHalt} only by POST, with
 *       {@code halted} and with {@code confirm} naming the direction and the instrument
 *       ({@code "halt BTCUSDT-PERP"}, {@code "resume BTCUSDT-PERP"});</li>
 *   <li>{@code GET events}: server-sent events ({@link ConsoleEvents}).</li>
 * </ul>
 * Malformed parameters answer 400 with a message, refusals the status of their reason, an unknown
 * path, method or an oversized body 404, 405 or 413; every error has a JSON body ({@code reason},
 * {@code message}). Every answer carries {@link #SECURITY_HEADERS}. Every call
 * counts against the operator token's quotas on this node ({@code clearinghouse.quotas.operator}),
 * the events stream as one of its streams.
 */
public final class ConsoleRoutes implements ManagementRouteProvider {
  static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_BODY_BYTES = 64 * 1024;

  private final ActorSystem<Void> system;

  public ConsoleRoutes(ExtendedActorSystem system) {
    this.system = Adapter.toTyped(system);
  }

  /**
   * On every console answer (the page, its files and its API): no framing by another page, no
   * content-type sniffing, and a policy that lets the page load and call only this origin (no inline
   * script or style, no plugins, no other origin's frames).
   */
  static final List<HttpHeader> SECURITY_HEADERS = List.of(
      RawHeader.create("X-Frame-Options", "DENY"),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "
          + "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
          + "frame-ancestors 'none'"));

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return pathPrefix("console", () -> respondWithHeaders(SECURITY_HEADERS, () -> concat(
        pathPrefix("api", () -> respondWithHeader(RawHeader.create("Cache-Control", "no-store"), () ->
            handleExceptions(JSON_EXCEPTIONS, () -> handleRejections(JSON_REJECTIONS, this::api)))),
        pathEndOrSingleSlash(() -> get(() -> getFromResource("console/index.html"))),
        get(() -> getFromResourceDirectory("console")))));
  }

  /**
   * The API's rejections (an unknown path 404, a method the path does not take 405, a body over
   * {@value #MAX_BODY_BYTES} bytes 413, ...) answered as the default handler answers them, with a
   * JSON body of the same shape as every other error here ({@code reason}, {@code message}).
   */
  private static final RejectionHandler JSON_REJECTIONS = RejectionHandler.defaultHandler()
      .mapRejectionResponse(ConsoleRoutes::asJsonError);

  /** A request body over the limit found while it is read (413), any other failure 500: JSON bodies. */
  private static final ExceptionHandler JSON_EXCEPTIONS = ExceptionHandler.newBuilder()
      .match(EntityStreamSizeException.class, e -> complete(error(413, "PAYLOAD_TOO_LARGE",
          "the request body is over " + MAX_BODY_BYTES + " bytes")))
      .matchAny(e -> complete(error(500, "INTERNAL", "internal error")))
      .build();

  /** {@code answer} with a JSON error body ({@code reason} from its status, {@code message} its text) unless it has one. */
  static HttpResponse asJsonError(HttpResponse answer) {
    if (answer.status().intValue() < 400 || answer.entity().getContentType().equals(ContentTypes.APPLICATION_JSON)) {
      return answer;
    }
    String text = answer.status().intValue() == 413 ? "the request body is over " + MAX_BODY_BYTES + " bytes"
        : answer.entity().isStrict()
        ? ((org.apache.pekko.http.javadsl.model.HttpEntity.Strict) answer.entity()).getData().utf8String() : "";
    String reason = answer.status().reason().toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]+", "_")
        .replaceAll("^_|_$", "");
    return answer.withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, JSON.createObjectNode()
        .put("reason", reason).put("message", text.isBlank() ? answer.status().reason() : text).toString()));
  }

  private Route api() {
    Route session = get(() -> operator((by, meta) ->
        complete(json(200, JSON.createObjectNode().put("operator", by.name())))));
    Route markets = get(() -> operator((by, meta) ->
        completeWithFuture(views().markets().thenApply(root -> json(200, root)))));
    Route history = get(() -> operator((by, meta) ->
        parameterMap(params -> complete(views().history(params.get("instrument"))))));
    Route cluster = get(() -> operator((by, meta) -> complete(json(200, views().cluster()))));
    // Ends when the operator's token expires, with a last "expired" event naming UNAUTHENTICATED
    // TOKEN_EXPIRED (the browser's reconnection is then refused until a new token is given).
    Route events = get(() -> operator(true, (by, meta) -> completeOK(io.clearinghouse.api.ExpiringStreams.untilExpiry(
        new ConsoleEvents(system, backend()).source(), NodeContext.get(system).auth().remaining(meta),
        org.apache.pekko.http.javadsl.model.sse.ServerSentEvent.create(JSON.createObjectNode()
            .put("reason", "TOKEN_EXPIRED").put("status", "UNAUTHENTICATED")
            .put("message", "the operator token expired: sign in again with a valid token").toString(), "expired")),
        EventStreamMarshalling.toEventStream())));
    return concat(
        path("session", () -> session),
        path("markets", () -> markets),
        path(segment("markets").slash("history"), () -> history),
        path("cluster", () -> cluster),
        path("events", () -> events),
        path(segment("admin").slash(segment()), method -> concat(
            get(() -> operator((by, meta) -> parameterMap(params -> adminGet(method, params, meta)))),
            post(() -> operator((by, meta) -> withSizeLimit(MAX_BODY_BYTES, () ->
                entity(Unmarshaller.entityToString(), body -> adminPost(method, body, meta))))))));
  }

  private ConsoleViews views() {
    return new ConsoleViews(system, backend());
  }

  private ConsoleBackend backend() {
    return NodeContext.get(system).console();
  }

  private Route adminGet(String method, Map<String, String> params, Metadata meta) {
    if (method.equals("SetLiquidationHalt")) {
      return complete(error(405, "METHOD_NOT_ALLOWED", "the halt switch changes state: POST it, with confirm"));
    }
    ObjectNode request = JSON.createObjectNode();
    params.forEach(request::put);
    return admin(method, request.toString(), meta);
  }

  private Route adminPost(String method, String body, Metadata meta) {
    JsonNode parsed;
    try {
      parsed = JSON.readTree(body.isBlank() ? "{}" : body);
    } catch (java.io.IOException e) {
      return complete(error(400, "MALFORMED_MESSAGE", "the body is not JSON"));
    }
    if (!(parsed instanceof ObjectNode request)) {
      return complete(error(400, "MALFORMED_MESSAGE", "the body must be a JSON object"));
    }
    if (method.equals("SetLiquidationHalt")) {
      // The switch acts only when the page confirmed it: the confirmation names the direction and the
      // instrument ("halt BTCUSDT-PERP" or "resume BTCUSDT-PERP"), so a resume's cannot halt.
      JsonNode confirm = request.remove("confirm");
      String instrument = request.path("instrument").asText("");
      JsonNode halted = request.path("halted");
      String expected = haltConfirmation(halted.isBoolean() && halted.booleanValue(), instrument);
      if (confirm == null || !confirm.isTextual() || !confirm.asText().equals(expected) || instrument.isEmpty()
          || !halted.isBoolean()) {
        return complete(error(400, "CONFIRMATION_MISSING", "the halt switch needs halted (true or false) and confirm"
            + " naming what it does: \"halt <instrument>\" or \"resume <instrument>\""));
      }
    }
    return admin(method, request.toString(), meta);
  }

  /** What the halt switch's confirmation must say: the direction and the instrument. */
  static String haltConfirmation(boolean halted, String instrument) {
    return (halted ? "halt " : "resume ") + instrument;
  }

  private Route admin(String method, String requestJson, Metadata meta) {
    Optional<AdminCalls.Call<?>> call = new AdminCalls(backend().admin()).call(method);
    if (call.isEmpty()) {
      return complete(error(404, "UNKNOWN_METHOD", "the console has no call " + AdminCalls.clip(method)));
    }
    CompletionStage<HttpResponse> answer = AdminCalls.run(call.get(), requestJson, meta).thenApply(result -> {
      if (result instanceof AdminCalls.Refusal refusal) {
        return error(refusal.status(), refusal.reason(), refusal.message());
      }
      try {
        return HttpResponse.create().withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON,
            AdminCalls.PRINTER.print((Message) result)));
      } catch (InvalidProtocolBufferException e) {
        return error(500, "INTERNAL", "internal error");
      }
    });
    return completeWithFuture(answer);
  }

  /**
   * {@code inner} runs for the operator only, with the caller and the metadata the gRPC calls get:
   * the same token check as the gRPC operator calls ({@link Authenticator#require}).
   */
  private Route operator(BiFunction<Principal, Metadata, Route> inner) {
    return operator(false, inner);
  }

  /**
   * As {@link #operator(BiFunction)}, counted against the token's quotas as its gRPC calls are
   * ({@link Quotas#begin}: its rate, and its calls at once, or with {@code stream} its open
   * streams): refused with 429 and the reason when over; held until the answer is sent.
   */
  private Route operator(boolean stream, BiFunction<Principal, Metadata, Route> inner) {
    return extractRequest(request -> {
      ConsoleBackend backend = backend();
      Authenticator auth = NodeContext.get(system).auth();
      if (backend == null || auth == null || !backend.unitsAgreed().getAsBoolean()) {
        return complete(error(503, "UNAVAILABLE", "the node is starting: retry in a moment"));
      }
      Optional<String> header = request.getHeader("Authorization").map(h -> h.value());
      try {
        Principal by = auth.require(header, Role.OPERATOR);
        Quotas.Permit permit = backend.quotas().begin(by, stream);
        return mapRouteResultFuture(result -> result.handle((answer, failure) -> {
          if (failure == null && answer instanceof Complete complete) {
            return RouteResults.complete(heldUntilSent(complete.getResponse(), permit));
          }
          permit.release();
          if (failure != null) {
            throw failure instanceof CompletionException c ? c : new CompletionException(failure);
          }
          return answer;
        }), () -> inner.apply(by, AdminCalls.metadata(header)));
      } catch (RejectedException e) {
        return complete(error(GrpcErrors.httpStatus(e.reason()), e.reason().name(), e.getMessage()));
      }
    });
  }

  /**
   * {@code answer} with {@code permit} released once its body has been sent (or the client went
   * away): at once for a whole answer, at the end of a streamed one (the events). Unlike the gRPC
   * guard's, a console answer has no trailers to keep, so its bytes can be watched directly.
   */
  static HttpResponse heldUntilSent(HttpResponse answer, Quotas.Permit permit) {
    if (answer.entity().isStrict()) {
      permit.release();
      return answer;
    }
    return answer.withEntity(HttpEntities.create(answer.entity().getContentType(), answer.entity().getDataBytes()
        .watchTermination((materialized, done) -> {
          done.whenComplete((ok, failure) -> permit.release());
          return materialized;
        })));
  }

  static HttpResponse json(int status, JsonNode node) {
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, node.toString()));
  }

  static HttpResponse error(int status, String reason, String message) {
    return json(status, JSON.createObjectNode().put("reason", reason).put("message", message));
  }
}
