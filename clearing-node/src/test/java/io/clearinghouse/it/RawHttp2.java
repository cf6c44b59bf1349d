package io.clearinghouse.it;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.http.shaded.com.twitter.hpack.Decoder;

/**
 * A deliberately minimal HTTP/2 client over a plain socket (prior knowledge, h2c), for abuse
 * tests that must send what no well-behaved client library would: a gRPC frame header declaring
 * 2 GiB, a compressed flag, a burst of RST_STREAMs. It writes frames by hand (header blocks as
 * HPACK literals without indexing), obeys the server's flow-control windows (so the bytes it
 * manages to send are exactly the bytes the server agreed to take), acknowledges SETTINGS and
 * PING, and decodes the server's header blocks with the HPACK decoder pekko-http ships.
 */
final class RawHttp2 implements AutoCloseable {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  static final int DATA = 0;
  static final int HEADERS = 1;
  static final int RST_STREAM = 3;
  static final int SETTINGS = 4;
  static final int PING = 6;
  static final int GOAWAY = 7;
  static final int WINDOW_UPDATE = 8;
  static final int CONTINUATION = 9;
  private static final int END_STREAM = 0x1;
  private static final int ACK = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int MAX_FRAME = 16_384;

  /** What the server did with one stream. */
  static final class StreamState {
    final Map<String, String> headers = new ConcurrentHashMap<>();
    final AtomicLong dataBytes = new AtomicLong();
    /** The first 64 KB of the response's DATA. */
    final ByteArrayOutputStream data = new ByteArrayOutputStream();
    final CompletableFuture<String> ended = new CompletableFuture<>();
    /** When the server's first header block for the stream arrived ({@link System#nanoTime}), or 0. */
    volatile long headersAtNanos;
    volatile Integer resetCode;
    volatile long sendWindow;

    /** grpc-status of the response (trailers-only or trailers), if it came. */
    Optional<String> grpcStatus() {
      return Optional.ofNullable(headers.get("grpc-status"));
    }
  }

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;
  private final Decoder hpack = new Decoder(64 * 1024, 4096);
  private final Map<Integer, StreamState> streams = new ConcurrentHashMap<>();
  private final Object windows = new Object();
  private long connectionSendWindow = 65_535;
  private long initialStreamWindow = 65_535;
  private final AtomicInteger nextStreamId = new AtomicInteger(1);
  final AtomicInteger pingsReceived = new AtomicInteger();
  final CompletableFuture<Integer> goAway = new CompletableFuture<>();
  final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final CompletableFuture<Void> serverSettings = new CompletableFuture<>();
  private final Thread reader;

  private RawHttp2(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
    this.in = new DataInputStream(socket.getInputStream());
    this.reader = new Thread(this::readLoop, "raw-http2-reader-" + socket.getLocalPort());
    this.reader.setDaemon(true);
  }

  /** Connects, sends the preface and empty SETTINGS, and waits for the server's SETTINGS. */
  static RawHttp2 connect(int port) {
    try {
      RawHttp2 client = new RawHttp2(new Socket("127.0.0.1", port));
      client.reader.start();
      synchronized (client.out) {
        client.out.write(PREFACE);
        client.frame(SETTINGS, 0, 0, new byte[0]);
        client.out.flush();
      }
      client.serverSettings.get(10, TimeUnit.SECONDS);
      return client;
    } catch (Exception e) {
      throw new IllegalStateException("no HTTP/2 connection to port " + port, e);
    }
  }

  /** A TCP connection that sends nothing at all. */
  static Socket silent(int port) {
    try {
      return new Socket("127.0.0.1", port);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Opens a gRPC request stream: the request headers, and {@code extra} ones (e.g. authorization). */
  int openGrpc(String path, Map<String, String> extra, boolean endStream) {
    int id = nextStreamId.getAndAdd(2);
    StreamState state = new StreamState();
    synchronized (windows) {
      state.sendWindow = initialStreamWindow;
    }
    streams.put(id, state);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(":method", "POST");
    headers.put(":scheme", "http");
    headers.put(":path", path);
    headers.put(":authority", "127.0.0.1:" + socket.getPort());
    headers.put("content-type", "application/grpc");
    headers.put("te", "trailers");
    headers.putAll(extra);
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    headers.forEach((name, value) -> literal(block, name, value));
    send(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), id, block.toByteArray());
    return id;
  }

  StreamState stream(int id) {
    return streams.get(id);
  }

  /** A gRPC length-prefixed message header: the compressed flag and the declared length. */
  static byte[] grpcHeader(boolean compressed, long declaredLength) {
    return new byte[] {(byte) (compressed ? 1 : 0), (byte) (declaredLength >>> 24), (byte) (declaredLength >>> 16),
        (byte) (declaredLength >>> 8), (byte) declaredLength};
  }

  /** One whole gRPC message (header and body) in as many DATA frames as it takes. */
  static byte[] grpcMessage(boolean compressed, byte[] body) {
    byte[] message = new byte[5 + body.length];
    System.arraycopy(grpcHeader(compressed, body.length), 0, message, 0, 5);
    System.arraycopy(body, 0, message, 5, body.length);
    return message;
  }

  /**
   * Sends {@code bytes} on the stream within the server's flow-control windows. Stops early, and
   * returns how many bytes went out, when the stream is reset or ended by the server, the
   * connection closes, or no window opens for {@code stall}.
   */
  long sendData(int id, byte[] bytes, boolean endStream, Duration stall) {
    StreamState state = streams.get(id);
    long sent = 0;
    while (sent < bytes.length) {
      int chunk;
      synchronized (windows) {
        long deadline = System.nanoTime() + stall.toNanos();
        while (!stopped(state) && (connectionSendWindow <= 0 || state.sendWindow <= 0)) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return sent;
          }
          try {
            windows.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return sent;
          }
        }
        if (stopped(state)) {
          return sent;
        }
        chunk = (int) Math.min(Math.min(MAX_FRAME, bytes.length - sent), Math.min(connectionSendWindow, state.sendWindow));
        connectionSendWindow -= chunk;
        state.sendWindow -= chunk;
      }
      byte[] payload = new byte[chunk];
      System.arraycopy(bytes, (int) sent, payload, 0, chunk);
      boolean last = sent + chunk == bytes.length;
      try {
        send(DATA, last && endStream ? END_STREAM : 0, id, payload);
      } catch (UncheckedIOException e) {
        return sent;
      }
      sent += chunk;
    }
    return sent;
  }

  /**
   * Streams zeros on the stream, {@code limit} bytes at most, as fast as the windows allow (see
   * {@link #sendData}); returns how many bytes the server took.
   */
  long sendZeros(int id, long limit, Duration stall) {
    byte[] block = new byte[256 * 1024];
    long total = 0;
    while (total < limit) {
      int size = (int) Math.min(block.length, limit - total);
      byte[] part = size == block.length ? block : new byte[size];
      long sent = sendData(id, part, false, stall);
      total += sent;
      if (sent < size) {
        break;
      }
    }
    return total;
  }

  void reset(int id, int errorCode) {
    send(RST_STREAM, 0, id, new byte[] {(byte) (errorCode >>> 24), (byte) (errorCode >>> 16), (byte) (errorCode >>> 8),
        (byte) errorCode});
  }

  private boolean stopped(StreamState state) {
    return state.resetCode != null || state.ended.isDone() || closed.isDone();
  }

  private void send(int type, int flags, int streamId, byte[] payload) {
    try {
      synchronized (out) {
        frame(type, flags, streamId, payload);
        out.flush();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void frame(int type, int flags, int streamId, byte[] payload) throws IOException {
    int length = payload.length;
    out.write(new byte[] {(byte) (length >>> 16), (byte) (length >>> 8), (byte) length, (byte) type, (byte) flags,
        (byte) (streamId >>> 24), (byte) (streamId >>> 16), (byte) (streamId >>> 8), (byte) streamId});
    out.write(payload);
  }

  /** HPACK "literal header field without indexing, new name", no Huffman coding. */
  private static void literal(ByteArrayOutputStream block, String name, String value) {
    block.write(0);
    string(block, name.getBytes(StandardCharsets.UTF_8));
    string(block, value.getBytes(StandardCharsets.UTF_8));
  }

  private static void string(ByteArrayOutputStream block, byte[] bytes) {
    // 7-bit prefix integer (RFC 7541 section 5.1), H bit clear.
    int length = bytes.length;
    if (length < 127) {
      block.write(length);
    } else {
      block.write(127);
      length -= 127;
      while (length >= 128) {
        block.write((length & 0x7f) | 0x80);
        length >>>= 7;
      }
      block.write(length);
    }
    block.write(bytes, 0, bytes.length);
  }

  private void readLoop() {
    ByteArrayOutputStream headerBlock = new ByteArrayOutputStream();
    int headerStream = 0;
    boolean headerEndStream = false;
    try {
      while (true) {
        int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int streamId = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[length];
        in.readFully(payload);
        switch (type) {
          case SETTINGS -> {
            if ((flags & ACK) == 0) {
              applySettings(payload);
              send(SETTINGS, ACK, 0, new byte[0]);
              serverSettings.complete(null);
            }
          }
          case PING -> {
            if ((flags & ACK) == 0) {
              pingsReceived.incrementAndGet();
              send(PING, ACK, 0, payload);
            }
          }
          case WINDOW_UPDATE -> {
            long increment = readInt(payload, 0) & 0x7fffffffL;
            synchronized (windows) {
              if (streamId == 0) {
                connectionSendWindow += increment;
              } else if (streams.containsKey(streamId)) {
                streams.get(streamId).sendWindow += increment;
              }
              windows.notifyAll();
            }
          }
          case HEADERS, CONTINUATION -> {
            if (type == HEADERS) {
              headerBlock.reset();
              headerStream = streamId;
              headerEndStream = (flags & END_STREAM) != 0;
              int offset = 0;
              int padding = 0;
              if ((flags & 0x8) != 0) {
                padding = payload[0] & 0xff;
                offset = 1;
              }
              if ((flags & 0x20) != 0) {
                offset += 5;
              }
              headerBlock.write(payload, offset, payload.length - offset - padding);
            } else {
              headerBlock.write(payload, 0, payload.length);
            }
            if ((flags & END_HEADERS) != 0) {
              decodeHeaders(headerStream, headerBlock.toByteArray(), headerEndStream);
            }
          }
          case DATA -> {
            StreamState state = streams.get(streamId);
            if (state != null) {
              state.dataBytes.addAndGet(payload.length);
              synchronized (state.data) {
                state.data.write(payload, 0, Math.max(0, Math.min(payload.length, 65_536 - state.data.size())));
              }
            }
            if (length > 0) {
              byte[] increment = intBytes(length);
              send(WINDOW_UPDATE, 0, 0, increment);
              if ((flags & END_STREAM) == 0) {
                send(WINDOW_UPDATE, 0, streamId, increment);
              }
            }
            if ((flags & END_STREAM) != 0 && state != null) {
              state.ended.complete("end-stream");
            }
          }
          case RST_STREAM -> {
            StreamState state = streams.get(streamId);
            if (state != null) {
              state.resetCode = readInt(payload, 0);
              state.ended.complete("reset " + state.resetCode);
            }
            synchronized (windows) {
              windows.notifyAll();
            }
          }
          case GOAWAY -> goAway.complete(readInt(payload, 4));
          default -> {
            // PRIORITY, PUSH_PROMISE, unknown: nothing to do for these tests
          }
        }
      }
    } catch (EOFException | java.net.SocketException e) {
      // the server closed the connection (or we did)
    } catch (IOException | RuntimeException e) {
      closed.completeExceptionally(e);
    } finally {
      closed.complete(null);
      streams.values().forEach(s -> s.ended.complete("connection closed"));
      synchronized (windows) {
        windows.notifyAll();
      }
    }
  }

  private void decodeHeaders(int streamId, byte[] block, boolean endStream) throws IOException {
    StreamState state = streams.get(streamId);
    List<String[]> decoded = new ArrayList<>();
    hpack.decode(new ByteArrayInputStream(block), (name, value, parsed, sensitive) -> {
      decoded.add(new String[] {name, value});
      return null;
    });
    hpack.endHeaderBlock();
    if (state != null) {
      if (state.headersAtNanos == 0) {
        state.headersAtNanos = System.nanoTime();
      }
      decoded.forEach(h -> state.headers.put(h[0], h[1]));
      if (endStream) {
        state.ended.complete("end-stream");
      }
    }
  }

  private void applySettings(byte[] payload) {
    for (int i = 0; i + 6 <= payload.length; i += 6) {
      int id = ((payload[i] & 0xff) << 8) | (payload[i + 1] & 0xff);
      long value = readInt(payload, i + 2) & 0xffffffffL;
      if (id == 0x4) {
        synchronized (windows) {
          long delta = value - initialStreamWindow;
          initialStreamWindow = value;
          streams.values().forEach(s -> s.sendWindow += delta);
          windows.notifyAll();
        }
      }
    }
  }

  private static int readInt(byte[] bytes, int offset) {
    return ((bytes[offset] & 0xff) << 24) | ((bytes[offset + 1] & 0xff) << 16) | ((bytes[offset + 2] & 0xff) << 8)
        | (bytes[offset + 3] & 0xff);
  }

  private static byte[] intBytes(int value) {
    return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
  }

  boolean isClosed() {
    return closed.isDone() || socket.isClosed();
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
