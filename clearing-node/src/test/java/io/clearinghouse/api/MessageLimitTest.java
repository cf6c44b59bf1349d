package io.clearinghouse.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.clearinghouse.common.Rejection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.grpc.GrpcServiceException;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The frame guard of request bodies: messages up to the limit pass unchanged however the bytes
 * are chunked; a header declaring more, or the compressed flag, is refused at its 5 bytes,
 * before any more of the body is pulled, and the body is cancelled only after the grace.
 */
class MessageLimitTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final int LIMIT = 1024;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void messagesUpToTheLimitPassUnchangedInAnyChunking() throws Exception {
    ByteString body = message(0, LIMIT).concat(message(0, 0)).concat(message(0, 7));
    for (int chunk : new int[] {1, 2, 5, 6, 100, body.size()}) {
      List<ByteString> chunks = new ArrayList<>();
      for (int i = 0; i < body.size(); i += chunk) {
        chunks.add(body.slice(i, Math.min(body.size(), i + chunk)));
      }
      ByteString passed = Source.from(chunks).via(limit(new CopyOnWriteArrayList<>()))
          .runFold(ByteString.emptyByteString(), ByteString::concat, testKit.system())
          .toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(body, passed, "chunks of " + chunk);
    }
  }

  @Test
  void aDeclaredLengthOneAboveTheLimitIsRefusedAtItsHeader() throws Exception {
    List<Rejection> refused = new CopyOnWriteArrayList<>();
    AtomicInteger pulled = new AtomicInteger();
    // A valid message, then a header declaring LIMIT + 1, then a body that must never be pulled.
    ByteString header = message(0, LIMIT + 1).slice(0, MessageLimit.HEADER_BYTES);
    Source<ByteString, ?> body = Source.from(List.of(message(0, 3), header))
        .concat(Source.repeat(ByteString.fromArray(new byte[4096])).take(1000).map(b -> {
          pulled.incrementAndGet();
          return b;
        }));
    Throwable failure = failureOf(body.via(limit(refused)));
    GrpcServiceException grpc = assertInstanceOf(GrpcServiceException.class, failure);
    assertEquals(io.grpc.Status.Code.RESOURCE_EXHAUSTED, grpc.getStatus().getCode());
    assertTrue(grpc.getStatus().getDescription().startsWith("MESSAGE_TOO_LARGE: a message declares 1025 bytes"),
        grpc.getStatus().getDescription());
    assertEquals(List.of(Rejection.MESSAGE_TOO_LARGE), refused);
    // Concatenation prefetches at most one element past the header; nothing of the body is read.
    assertTrue(pulled.get() <= 1, pulled.get() + " chunks of the refused body were pulled");
  }

  @Test
  void theCompressedFlagIsRefused() throws Exception {
    List<Rejection> refused = new CopyOnWriteArrayList<>();
    Throwable failure = failureOf(Source.single(message(1, 10)).via(limit(refused)));
    GrpcServiceException grpc = assertInstanceOf(GrpcServiceException.class, failure);
    assertEquals(io.grpc.Status.Code.UNIMPLEMENTED, grpc.getStatus().getCode());
    assertEquals(List.of(Rejection.COMPRESSION_NOT_SUPPORTED), refused);
  }

  @Test
  void theRefusedBodyIsCancelledOnlyAfterTheGrace() throws Exception {
    long start = System.nanoTime();
    var cancelled = Source.single(message(0, LIMIT + 1)).concat(Source.never())
        .watchTermination((mat, done) -> done)
        .via(new MessageLimit(LIMIT, Duration.ofMillis(300), r -> { }))
        .to(Sink.ignore()).run(testKit.system());
    cancelled.toCompletableFuture().get(5, TimeUnit.SECONDS);
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(millis >= 300, "cancelled after " + millis + " ms");
  }

  private static MessageLimit limit(List<Rejection> refused) {
    return new MessageLimit(LIMIT, Duration.ofSeconds(1), refused::add);
  }

  private static Throwable failureOf(Source<ByteString, ?> source) throws Exception {
    try {
      source.runWith(Sink.ignore(), testKit.system()).toCompletableFuture().get(5, TimeUnit.SECONDS);
      throw new AssertionError("expected the stream to fail");
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause() instanceof CompletionException c ? c.getCause() : e.getCause();
    }
  }

  /** A gRPC length-prefixed message: flags, the declared length, and that many bytes. */
  private static ByteString message(int flags, int length) {
    byte[] bytes = new byte[MessageLimit.HEADER_BYTES + length];
    bytes[0] = (byte) flags;
    bytes[1] = (byte) (length >>> 24);
    bytes[2] = (byte) (length >>> 16);
    bytes[3] = (byte) (length >>> 8);
    bytes[4] = (byte) length;
    for (int i = 0; i < length; i++) {
      bytes[MessageLimit.HEADER_BYTES + i] = (byte) i;
    }
    return ByteString.fromArray(bytes);
  }
}
