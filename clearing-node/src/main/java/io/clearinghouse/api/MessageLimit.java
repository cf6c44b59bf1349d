package io.clearinghouse.api;

import io.clearinghouse.common.Rejection;
import java.time.Duration;
import java.util.function.Consumer;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SinkShape;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Watches the gRPC length-prefixed messages of a request body as its bytes pass, and refuses a
 * message at its 5-byte header, before any of its body is read: a declared length above the limit
 * (MESSAGE_TOO_LARGE), or the compressed flag (COMPRESSION_NOT_SUPPORTED). pekko-grpc's own
 * decoder (1.1.1) buffers whatever length a header declares and inflates without a bound; behind
 * this stage it never sees a message longer than the limit, and each message's bytes are
 * exactly the length its header declared, so no message costs more than the limit.
 *
 * <p>A refusal fails the downstream at once, so that the call is answered with the refusal, but
 * cancels the request body only after {@code grace}: cancelling it resets the HTTP/2 stream, and
 * a reset that overtook the answer would leave the caller with CANCELLED instead of the reason.
 * Meanwhile nothing is pulled, so the caller's flow-control window closes.
 */
final class MessageLimit extends GraphStage<FlowShape<ByteString, ByteString>> {
  static final int HEADER_BYTES = 5;
  private static final int COMPRESSED_FLAG = 0x01;

  private final Inlet<ByteString> in = Inlet.create("MessageLimit.in");
  private final Outlet<ByteString> out = Outlet.create("MessageLimit.out");
  private final FlowShape<ByteString, ByteString> shape = FlowShape.of(in, out);
  private final long maxMessageBytes;
  private final Duration grace;
  private final Consumer<Rejection> refused;

  MessageLimit(long maxMessageBytes, Duration grace, Consumer<Rejection> refused) {
    this.maxMessageBytes = maxMessageBytes;
    this.grace = grace;
    this.refused = refused;
  }

  @Override
  public FlowShape<ByteString, ByteString> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new TimerGraphStageLogic(shape) {
      /** Header bytes of the next message collected so far (fewer than 5). */
      private ByteString header = ByteString.emptyByteString();
      /** Body bytes of the current message still to come. */
      private long remaining;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            ByteString chunk = grab(in);
            Rejection problem = inspect(chunk);
            if (problem == null) {
              push(out, chunk);
            }
          }

          @Override
          public void onUpstreamFinish() {
            completeStage();
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pull(in);
          }
        });
      }

      /** Walks the chunk's message boundaries; on a refused header, fails downstream and returns why. */
      private Rejection inspect(ByteString chunk) {
        int position = 0;
        while (position < chunk.size()) {
          if (remaining > 0) {
            int body = (int) Math.min(remaining, chunk.size() - position);
            remaining -= body;
            position += body;
            continue;
          }
          int take = Math.min(HEADER_BYTES - header.size(), chunk.size() - position);
          header = header.concat(chunk.slice(position, position + take));
          position += take;
          if (header.size() == HEADER_BYTES) {
            int flags = header.apply(0) & 0xff;
            long declared = ((header.apply(1) & 0xffL) << 24) | ((header.apply(2) & 0xffL) << 16)
                | ((header.apply(3) & 0xffL) << 8) | (header.apply(4) & 0xffL);
            header = ByteString.emptyByteString();
            if ((flags & COMPRESSED_FLAG) != 0) {
              return refuse(Rejection.COMPRESSION_NOT_SUPPORTED,
                  "a message with the compressed flag; send messages uncompressed (grpc-encoding identity)");
            }
            if (declared > maxMessageBytes) {
              return refuse(Rejection.MESSAGE_TOO_LARGE, "a message declares " + declared
                  + " bytes, more than the limit of " + maxMessageBytes);
            }
            remaining = declared;
          }
        }
        return null;
      }

      private Rejection refuse(Rejection reason, String message) {
        refused.accept(reason);
        fail(out, GrpcErrors.refusal(reason, message));
        // The body is left unread (no pull) and cancelled after the grace (see the class comment).
        setHandler(in, unread(this::completeStage));
        scheduleOnce("cancel-body", grace);
        return reason;
      }

      @Override
      public void onTimer(Object key) {
        completeStage();
      }
    };
  }

  /** The handler of a body left unread: never pulled, so nothing arrives; its end ends the stage. */
  private static AbstractInHandler unread(Runnable complete) {
    return new AbstractInHandler() {
      @Override
      public void onPush() {
        // never pulled
      }

      @Override
      public void onUpstreamFinish() {
        complete.run();
      }

      @Override
      public void onUpstreamFailure(Throwable cause) {
        complete.run();
      }
    };
  }

  /**
   * A sink for the body of a request refused before it was read: it never pulls, and cancels
   * the body after {@code grace} (see the class comment for why not at once).
   */
  static final class Unread extends GraphStage<SinkShape<ByteString>> {
    private final Inlet<ByteString> in = Inlet.create("MessageLimit.Unread.in");
    private final SinkShape<ByteString> shape = SinkShape.of(in);
    private final Duration grace;

    Unread(Duration grace) {
      this.grace = grace;
    }

    @Override
    public SinkShape<ByteString> shape() {
      return shape;
    }

    @Override
    public GraphStageLogic createLogic(Attributes attributes) {
      return new TimerGraphStageLogic(shape) {
        {
          setHandler(in, unread(this::completeStage));
        }

        @Override
        public void preStart() {
          scheduleOnce("cancel-body", grace);
        }

        @Override
        public void onTimer(Object key) {
          completeStage();
        }
      };
    }
  }
}
