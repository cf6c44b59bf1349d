package io.clearinghouse.cli;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Making bearer tokens: nothing here talks to a node. */
final class TokenCommands {
  private TokenCommands() {}

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final List<String> ROLES = List.of("operator", "client", "engine", "feeder", "monitor");

  @Command(name = "token", description = {"Generate a random 256-bit bearer token and its SHA-256 (no node needed).",
      "Give the token to its holder; put only the printed entry into clearinghouse.auth.tokens."})
  static int token(@Mixin Call call,
      @Parameters(paramLabel = "NAME", description = "the token's name, recorded on the operator events it makes") String name,
      @Parameters(paramLabel = "ROLE", description = "operator, client, engine, feeder or monitor (reads the management port, changes nothing)") String role,
      @Option(names = "--accounts", split = ",", paramLabel = "ID", description = "a client token's accounts") List<String> accounts,
      @Option(names = "--sources", split = ",", paramLabel = "SOURCE", description = "a feeder token's sources") List<String> sources,
      @Option(names = "--expires", paramLabel = "INSTANT", description = "when it stops working, e.g. 2027-01-31T00:00:00Z") String expires) {
    String lowerRole = role.toLowerCase(Locale.ROOT);
    if (!ROLES.contains(lowerRole)) {
      throw new IllegalArgumentException("ROLE must be one of " + ROLES + ", was " + role);
    }
    if (expires != null) {
      try {
        Instant.parse(expires);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("--expires must be an ISO-8601 instant such as 2027-01-31T00:00:00Z");
      }
    }
    if (!name.matches("[A-Za-z0-9._:-]{1,64}")) {
      throw new IllegalArgumentException("NAME must be 1-64 of A-Za-z0-9._:-");
    }
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String token = HexFormat.of().formatHex(secret);
    String hash = sha256Hex(token);
    StringBuilder entry = new StringBuilder("{ name = \"" + name + "\", role = " + lowerRole + ", sha256 = \"" + hash + "\"");
    if (accounts != null && !accounts.isEmpty()) {
      entry.append(", accounts = ").append(quoted(accounts));
    }
    if (sources != null && !sources.isEmpty()) {
      entry.append(", sources = ").append(quoted(sources));
    }
    if (expires != null) {
      entry.append(", expires = \"").append(expires).append('"');
    }
    entry.append(" }");
    Session.Output output = call.output();
    if (output == Session.Output.json) {
      call.out().println("{\"token\": \"" + token + "\", \"sha256\": \"" + hash + "\", \"entry\": \""
          + entry.toString().replace("\"", "\\\"") + "\"}");
    } else {
      call.out().println("token   " + token);
      call.out().println("sha256  " + hash);
      call.out().println("entry   " + entry);
    }
    return 0;
  }

  private static String quoted(List<String> values) {
    return values.stream().map(v -> "\"" + v + "\"").toList().toString();
  }

  static String sha256Hex(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
    }
  }
}
