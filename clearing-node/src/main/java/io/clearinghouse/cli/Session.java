package io.clearinghouse.cli;

import com.google.protobuf.Descriptors;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.clearinghouse.protocol.v1.AccountServiceProto;
import io.clearinghouse.protocol.v1.AdminServiceProto;
import io.clearinghouse.protocol.v1.ClearingServiceProto;
import io.clearinghouse.protocol.v1.PriceServiceProto;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One chctl call's connection to the node: plain grpc-java calls (no actor system, so the client
 * starts in a fraction of a second), the management HTTP port, and the output in text or JSON.
 * The methods are looked up by name in the descriptors protoc generated, so no stub is needed.
 */
final class Session implements AutoCloseable {
  /** How results are printed: for people, or as the proto3 JSON mapping of the API's messages. */
  enum Output { text, json }

  static final String ADMIN = "clearing.v1.AdminService";
  static final String ACCOUNTS = "clearing.v1.AccountService";
  static final String CLEARING = "clearing.v1.ClearingService";
  static final String PRICES = "clearing.v1.PriceService";

  private static final Map<String, Descriptors.FileDescriptor> SERVICES = Map.of(
      ADMIN, AdminServiceProto.getDescriptor(),
      ACCOUNTS, AccountServiceProto.getDescriptor(),
      CLEARING, ClearingServiceProto.getDescriptor(),
      PRICES, PriceServiceProto.getDescriptor());

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String grpcTarget;
  private final String management;
  private final String token;
  private final Output output;
  private final Duration timeout;
  private final PrintStream out;
  private final Transport transport;
  private ManagedChannel channel;
  private HttpClient http;

  /** How to reach the node: TLS or not, and the one authority to trust (null: the system's). */
  record Transport(boolean tls, java.nio.file.Path caFile) {
    static final Transport PLAINTEXT = new Transport(false, null);
  }

  Session(String grpcTarget, String management, String token, Output output, Duration timeout, PrintStream out) {
    this(grpcTarget, management, token, output, timeout, out, Transport.PLAINTEXT);
  }

  Session(String grpcTarget, String management, String token, Output output, Duration timeout, PrintStream out,
      Transport transport) {
    this.transport = transport;
    this.grpcTarget = grpcTarget;
    this.management = management.replaceAll("/+$", "");
    this.token = token == null ? "" : token;
    this.output = output;
    this.timeout = timeout;
    this.out = out;
  }

  Output output() {
    return output;
  }

  PrintStream out() {
    return out;
  }

  /** One request, one answer, within the call timeout. */
  <Q extends Message, R extends Message> R call(String service, String method, Q request, R responseType) {
    Message[] answer = new Message[1];
    exchange(service, method, List.of(request), responseType, true, response -> {
      answer[0] = response;
      return false;
    });
    if (answer[0] == null) {
      throw Status.INTERNAL.withDescription(method + " ended without an answer").asRuntimeException();
    }
    @SuppressWarnings("unchecked")
    R typed = (R) answer[0];
    return typed;
  }

  /**
   * Sends {@code requests}, then hands each answer to {@code onEach} until it returns false (the
   * call is then cancelled) or the server ends the call. Streams of answers have no deadline.
   *
   * @throws io.grpc.StatusRuntimeException when the server ends the call with an error
   */
  <Q extends Message, R extends Message> void exchange(String service, String method, List<Q> requests,
      R responseType, boolean withDeadline, Predicate<R> onEach) {
    MethodDescriptor<Q, R> descriptor = descriptor(service, method, requests.get(0), responseType);
    CallOptions options = withDeadline
        ? CallOptions.DEFAULT.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
        : CallOptions.DEFAULT;
    ClientCall<Q, R> call = channel().newCall(descriptor, options);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    AtomicBoolean enough = new AtomicBoolean();
    Metadata headers = new Metadata();
    if (!token.isEmpty()) {
      headers.put(AUTHORIZATION, "Bearer " + token);
    }
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(R message) {
        boolean more;
        try {
          more = onEach.test(message);
        } catch (RuntimeException e) {
          closed.completeExceptionally(e);
          more = false;
        }
        if (more) {
          call.request(1);
        } else {
          enough.set(true);
          call.cancel("the client has what it asked for", null);
        }
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, headers);
    call.request(1);
    for (Q request : requests) {
      call.sendMessage(request);
    }
    call.halfClose();
    Status status = closed.join();
    if (!status.isOk() && !(enough.get() && status.getCode() == Status.Code.CANCELLED)) {
      throw status.asRuntimeException();
    }
  }

  private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> descriptor(String service, String method,
      Q request, R responseType) {
    Descriptors.MethodDescriptor proto = SERVICES.get(service)
        .findServiceByName(service.substring(service.lastIndexOf('.') + 1)).findMethodByName(method);
    if (proto == null || proto.getInputType() != request.getDescriptorForType()
        || proto.getOutputType() != responseType.getDescriptorForType()) {
      throw new IllegalStateException("no method " + service + "/" + method + " taking " + request.getClass()
          + " and answering " + responseType.getClass());
    }
    MethodDescriptor.MethodType type = proto.isClientStreaming()
        ? (proto.isServerStreaming() ? MethodDescriptor.MethodType.BIDI_STREAMING : MethodDescriptor.MethodType.CLIENT_STREAMING)
        : (proto.isServerStreaming() ? MethodDescriptor.MethodType.SERVER_STREAMING : MethodDescriptor.MethodType.UNARY);
    @SuppressWarnings("unchecked")
    Q requestPrototype = (Q) request.getDefaultInstanceForType();
    return MethodDescriptor.<Q, R>newBuilder()
        .setType(type)
        .setFullMethodName(MethodDescriptor.generateFullMethodName(service, method))
        .setRequestMarshaller(ProtoUtils.marshaller(requestPrototype))
        .setResponseMarshaller(ProtoUtils.marshaller(responseType))
        .build();
  }

  private ManagedChannel channel() {
    if (channel == null) {
      int colon = grpcTarget.lastIndexOf(':');
      if (colon < 1) {
        throw new IllegalArgumentException("the gRPC address must be host:port, was " + grpcTarget);
      }
      int port;
      try {
        port = Integer.parseInt(grpcTarget.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("the gRPC address must be host:port, was " + grpcTarget);
      }
      String host = grpcTarget.substring(0, colon);
      if (!transport.tls() && !token.isEmpty() && !onLoopback(host)) {
        throw new IllegalArgumentException("refusing to send the token in plaintext to " + grpcTarget
            + " (not loopback): speak TLS with --tls or CLEARINGHOUSE_TLS=on (and --ca-file or CLEARINGHOUSE_CA_FILE "
            + "for the cluster's authority)");
      }
      if (!transport.tls()) {
        channel = NettyChannelBuilder.forAddress(host, port).usePlaintext().build();
      } else {
        io.grpc.TlsChannelCredentials.Builder credentials = io.grpc.TlsChannelCredentials.newBuilder();
        if (transport.caFile() != null) {
          try {
            credentials.trustManager(transport.caFile().toFile());
          } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read the CA file " + transport.caFile() + ": " + e.getMessage());
          }
        }
        channel = NettyChannelBuilder.forAddress(host, port, credentials.build()).build();
      }
    }
    return channel;
  }

  /** Prints {@code message} as {@code text} renders it, or as JSON. */
  <M extends Message> int show(M message, Function<M, String> text) {
    out.print(output == Output.json ? json(message, false) + "\n" : text.apply(message));
    out.flush();
    return 0;
  }

  /** One line per message of a stream: JSON without line breaks, or the text. */
  <M extends Message> void showLine(M message, Function<M, String> text) {
    out.print(output == Output.json ? json(message, true) + "\n" : text.apply(message));
    out.flush();
  }

  static String json(Message message, boolean compact) {
    JsonFormat.Printer printer = JsonFormat.printer().includingDefaultValueFields().preservingProtoFieldNames();
    try {
      return (compact ? printer.omittingInsignificantWhitespace() : printer).print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot print " + message.getDescriptorForType().getFullName() + " as JSON", e);
    }
  }

  /**
   * One call to the management port, printing the body as it comes (its routes answer JSON or a
   * line of text). Every call carries the token when there is one: the POSTs change the cluster,
   * and /shards, /insurance-funds, /cascade and (by default) /metrics are the operator's to read.
   */
  int http(String path, boolean post) {
    HttpResponse<String> response = request(path, post);
    String body = response.body();
    out.print(body.endsWith("\n") || body.isEmpty() ? body : body + "\n");
    out.flush();
    return response.statusCode() == 200 ? 0 : 1;
  }

  /** A GET on the management port: its status and body. */
  HttpResponse<String> get(String path) {
    return request(path, false);
  }

  private HttpResponse<String> request(String path, boolean post) {
    URI uri = URI.create(management + path);
    boolean withToken = !token.isEmpty() || post;
    if (withToken && !"https".equalsIgnoreCase(uri.getScheme()) && !onLoopback(uri.getHost())) {
      throw new IllegalArgumentException("refusing to send the token in plaintext to " + management
          + " (not loopback): give the management port's https:// address (with --ca-file or CLEARINGHOUSE_CA_FILE "
          + "for the cluster's authority)");
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout);
    if (withToken) {
      request.header("Authorization", "Bearer " + token);
    }
    if (post) {
      request.POST(HttpRequest.BodyPublishers.noBody());
    }
    try {
      return httpClient().send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException e) {
      throw new Unreachable(management + path, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable(management + path, e);
    }
  }

  private HttpClient httpClient() {
    if (http == null) {
      HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout);
      if (transport.caFile() != null) {
        builder.sslContext(trusting(transport.caFile()));
      }
      http = builder.build();
    }
    return http;
  }

  /**
   * Whether {@code host} is this machine's loopback (the local mode's plaintext ports): a bearer
   * token is sent in plaintext there only, never across a network.
   */
  static boolean onLoopback(String host) {
    return host != null && !host.isBlank()
        && io.clearinghouse.common.Hosts.isLoopback(host.replace("[", "").replace("]", ""));
  }

  /** A TLS context that trusts the authorities of one PEM file only. */
  private static javax.net.ssl.SSLContext trusting(java.nio.file.Path caFile) {
    try (var in = java.nio.file.Files.newInputStream(caFile)) {
      java.security.KeyStore store = java.security.KeyStore.getInstance("PKCS12");
      store.load(null, null);
      int i = 0;
      for (var certificate : java.security.cert.CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca-" + i++, certificate);
      }
      var trust = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (java.io.IOException | java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the CA file " + caFile + ": " + e.getMessage());
    }
  }

  static String query(String name, String value) {
    return "?" + name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** The management port did not answer. */
  static final class Unreachable extends RuntimeException {
    Unreachable(String url, Exception cause) {
      super("cannot reach " + url + ": " + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()),
          cause);
    }
  }

  @Override
  public void close() {
    if (channel != null) {
      channel.shutdownNow();
    }
  }
}
