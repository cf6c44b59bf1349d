package io.clearinghouse.it;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One unary gRPC call written frame by frame on a plaintext HTTP/2 connection (prior knowledge),
 * so that a test decides when its request body is sent: {@link #start} sends the headers only
 * (the server dispatches the call and waits for the body), {@link #finish} sends the message and
 * reads the response's message. Headers are HPACK literals without indexing or Huffman coding.
 */
final class RawGrpcCall implements AutoCloseable {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int DATA = 0x0;
  private static final int HEADERS = 0x1;
  private static final int RST_STREAM = 0x3;
  private static final int SETTINGS = 0x4;
  private static final int GOAWAY = 0x7;
  private static final int END_STREAM = 0x1;
  private static final int END_HEADERS = 0x4;
  private static final int ACK = 0x1;
  private static final int STREAM = 1;

  private final Socket socket;
  private final OutputStream out;
  private final DataInputStream in;

  private RawGrpcCall(Socket socket) throws IOException {
    this.socket = socket;
    this.socket.setSoTimeout(30_000);
    this.out = socket.getOutputStream();
    this.in = new DataInputStream(socket.getInputStream());
  }

  /** Connects and sends the call's headers (POST {@code path}, {@code authorization}), not its body. */
  static RawGrpcCall start(String host, int port, String path, String authorization) throws IOException {
    RawGrpcCall call = new RawGrpcCall(new Socket(host, port));
    call.out.write(PREFACE);
    call.frame(SETTINGS, 0, 0, new byte[0]);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put(":method", "POST");
    headers.put(":scheme", "http");
    headers.put(":path", path);
    headers.put(":authority", host + ":" + port);
    headers.put("content-type", "application/grpc");
    headers.put("te", "trailers");
    headers.put("authorization", authorization);
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    headers.forEach((name, value) -> {
      block.write(0x00);
      literal(block, name);
      literal(block, value);
    });
    call.frame(HEADERS, END_HEADERS, STREAM, block.toByteArray());
    call.out.flush();
    return call;
  }

  /** Sends {@code message} as the request body and returns the response's message (the DATA it answers with). */
  byte[] finish(byte[] message) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.write(0);
    body.write(new byte[] {(byte) (message.length >>> 24), (byte) (message.length >>> 16),
        (byte) (message.length >>> 8), (byte) message.length});
    body.write(message);
    frame(DATA, END_STREAM, STREAM, body.toByteArray());
    out.flush();
    ByteArrayOutputStream response = new ByteArrayOutputStream();
    while (true) {
      int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
      int type = in.readUnsignedByte();
      int flags = in.readUnsignedByte();
      int stream = in.readInt() & 0x7fffffff;
      byte[] payload = in.readNBytes(length);
      if (type == SETTINGS && (flags & ACK) == 0) {
        frame(SETTINGS, ACK, 0, new byte[0]);
        out.flush();
      } else if (type == DATA && stream == STREAM) {
        response.write(payload);
      } else if (type == GOAWAY || (type == RST_STREAM && stream == STREAM)) {
        throw new IOException("the server ended the call: frame type " + type);
      }
      if (stream == STREAM && (type == DATA || type == HEADERS) && (flags & END_STREAM) != 0) {
        byte[] framed = response.toByteArray();
        return framed.length < 5 ? new byte[0] : java.util.Arrays.copyOfRange(framed, 5, framed.length);
      }
    }
  }

  private static void literal(ByteArrayOutputStream block, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    if (bytes.length >= 127) {
      throw new IllegalArgumentException("header too long for this writer: " + text);
    }
    block.write(bytes.length);
    block.write(bytes, 0, bytes.length);
  }

  private void frame(int type, int flags, int stream, byte[] payload) throws IOException {
    out.write(new byte[] {(byte) (payload.length >>> 16), (byte) (payload.length >>> 8), (byte) payload.length,
        (byte) type, (byte) flags, (byte) (stream >>> 24), (byte) (stream >>> 16), (byte) (stream >>> 8),
        (byte) stream});
    out.write(payload);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
