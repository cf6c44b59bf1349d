package io.clearinghouse.ops.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review rev18: the console's files are served from the jar without a token
 * ({@code getFromResourceDirectory("console")}). A path that climbs out of the folder (raw
 * {@code ..}, encoded {@code %2e%2e}, an encoded slash, a backslash) must never serve another
 * resource of the classpath (the node's configuration files); the API under {@code /console/api/}
 * needs the operator token even before the node has started (503 then, never 200).
 */
class Rev18ConsoleStaticFilesTest {
  private static ActorSystem<Void> system;
  private static ServerBinding binding;

  @BeforeAll
  static void bind() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "rev18console",
        com.typesafe.config.ConfigFactory.parseString("pekko.actor.provider = local")
            .withFallback(com.typesafe.config.ConfigFactory.load()));
    var routes = new ConsoleRoutes((org.apache.pekko.actor.ExtendedActorSystem) Adapter.toClassic(system)).routes(null);
    binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(routes).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  /** One raw request (the path exactly as written, no client normalisation): status line and body. */
  private static String raw(String path) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", binding.localAddress().getPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  @Test
  void thePageIsServedAndNothingOutsideItsFolder() throws Exception {
    assertTrue(raw("/console/").startsWith("HTTP/1.1 200"), "the page itself");
    for (String path : List.of("/console/../application.conf", "/console/%2e%2e/application.conf",
        "/console/..%2fapplication.conf", "/console/..%5capplication.conf", "/console/%2e%2e%2fclearinghouse.conf",
        "/console/../../io/clearinghouse/Main.class", "/console//application.conf", "/console/%2fapplication.conf",
        "/console/..;/application.conf")) {
      String answer = raw(path);
      assertFalse(answer.startsWith("HTTP/1.1 200"), path + " served:\n" + answer);
      assertFalse(answer.contains("include \"") || answer.contains("clearinghouse {"), path + ":\n" + answer);
    }
  }

  @Test
  void theApiBeforeTheNodeStartedIsUnavailableNotOpen() throws Exception {
    for (String path : List.of("/console/api/session", "/console/api/admin/GetInsuranceFund", "/console/api/events")) {
      String answer = raw(path);
      assertTrue(answer.startsWith("HTTP/1.1 503"), path + ":\n" + answer);
    }
    assertEquals(-1, raw("/console/api/session").indexOf("\"operator\""));
  }
}
