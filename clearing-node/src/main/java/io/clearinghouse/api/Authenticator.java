package io.clearinghouse.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.clearinghouse.common.RejectedException;
import io.clearinghouse.common.Rejection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.pekko.grpc.javadsl.Metadata;

/**
 * Bearer-token authentication and role checks. Tokens are configured only as SHA-256 hashes
 * ({@code clearinghouse.auth.tokens}), so the configuration never holds a usable secret; each may
 * carry an expiry ({@code expires}, an ISO-8601 instant), after which it is refused
 * ({@code TOKEN_EXPIRED}). The plain-text demo tokens are accepted only by a node whose every
 * port is bound to loopback.
 */
public final class Authenticator {
  private static final String BEARER = "bearer ";
  private static final int MAX_TOKEN_LENGTH = 512;

  /** The host keys a demo node must bind to loopback (empty values are left out). */
  static final List<String> DEMO_LOOPBACK_KEYS = List.of("clearinghouse.grpc.host", "pekko.management.http.hostname",
      "pekko.management.http.bind-hostname", "pekko.remote.artery.canonical.hostname",
      "pekko.remote.artery.bind.hostname");

  private final Map<String, Principal> byTokenHash;
  /** Token hash to the instant from which it is refused; tokens without an expiry are absent. */
  private final Map<String, Instant> expiries;
  private final Clock clock;
  /** For each account, the client tokens that own it. */
  private final Map<String, Set<String>> ownersByAccount;

  public Authenticator(Map<String, Principal> byTokenHash) {
    this(byTokenHash, Map.of(), Clock.systemUTC());
  }

  public Authenticator(Map<String, Principal> byTokenHash, Map<String, Instant> expiries, Clock clock) {
    this.byTokenHash = Map.copyOf(byTokenHash);
    this.expiries = Map.copyOf(expiries);
    this.clock = clock;
    Map<String, Set<String>> owners = new HashMap<>();
    byTokenHash.values().stream().filter(p -> p.role() == Role.CLIENT).forEach(p -> p.accounts()
        .forEach(account -> owners.computeIfAbsent(account, a -> new java.util.HashSet<>()).add(p.name())));
    this.ownersByAccount = Map.copyOf(owners);
  }

  /**
   * Reads {@code clearinghouse.auth.tokens}, plus the plain-text demo tokens of
   * {@code clearinghouse.demo} when the local demo mode is on. A bad entry stops the node with
   * the key named.
   */
  public static Authenticator fromConfig(Config config) {
    return fromConfig(config, Clock.systemUTC());
  }

  /** As {@link #fromConfig(Config)}, judging expiries on {@code clock}. */
  public static Authenticator fromConfig(Config config, Clock clock) {
    Map<String, Principal> tokens = new HashMap<>();
    Map<String, Instant> expiries = new HashMap<>();
    Set<String> configuredSources = Set.copyOf(config.getStringList("clearinghouse.price-feed.sources"));
    Map<String, String> sourceOwners = new HashMap<>();
    List<? extends Config> entries = config.getConfigList("clearinghouse.auth.tokens");
    for (int i = 0; i < entries.size(); i++) {
      Config entry = entries.get(i);
      String path = "clearinghouse.auth.tokens[" + i + "]";
      String name = entry.getString("name");
      Role role = parseRole(entry.getString("role"), path + ".role");
      String hash = entry.getString("sha256").toLowerCase(Locale.ROOT);
      if (!hash.matches("[0-9a-f]{64}")) {
        throw new ConfigException.BadValue(path + ".sha256", "must be the 64 hex digits of the token's SHA-256");
      }
      List<String> accounts = entry.hasPath("accounts") ? entry.getStringList("accounts") : List.of();
      List<String> sources = entry.hasPath("sources") ? entry.getStringList("sources") : List.of();
      if (role == Role.CLIENT && accounts.isEmpty()) {
        throw new ConfigException.BadValue(path + ".accounts", "a client token must own at least one account");
      }
      if (role == Role.FEEDER) {
        claimSources(name, sources, path + ".sources", configuredSources, sourceOwners);
      }
      if (tokens.put(hash, new Principal(name, role, Set.copyOf(accounts), Set.copyOf(sources))) != null) {
        throw new ConfigException.BadValue(path + ".sha256", "the same token is configured twice");
      }
      if (entry.hasPath("expires")) {
        expiries.put(hash, parseExpiry(entry.getString("expires"), path + ".expires"));
      }
    }
    if (config.getBoolean("clearinghouse.demo.enabled")) {
      requireLoopback(config);
      Config demo = config.getConfig("clearinghouse.demo");
      tokens.put(sha256Hex(demo.getString("operator-token")), new Principal("demo-operator", Role.OPERATOR, Set.of()));
      tokens.put(sha256Hex(demo.getString("client-token")),
          new Principal("demo-client", Role.CLIENT, Set.copyOf(demo.getStringList("client-accounts"))));
      tokens.put(sha256Hex(demo.getString("engine-token")), new Principal("demo-engine", Role.ENGINE, Set.of()));
      List<? extends Config> feeders = demo.getConfigList("feeders");
      for (int i = 0; i < feeders.size(); i++) {
        String path = "clearinghouse.demo.feeders[" + i + "]";
        String token = feeders.get(i).getString("token");
        String name = "demo-feeder-" + (i + 1);
        List<String> sources = feeders.get(i).hasPath("sources") ? feeders.get(i).getStringList("sources") : List.of();
        claimSources(name, sources, path + ".sources", configuredSources, sourceOwners);
        tokens.put(sha256Hex(token), new Principal(name, Role.FEEDER, Set.of(), Set.copyOf(sources)));
      }
    }
    return new Authenticator(tokens, expiries, clock);
  }

  private static Instant parseExpiry(String value, String path) {
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException e) {
      throw new ConfigException.BadValue(path, "must be an ISO-8601 instant such as 2027-01-31T00:00:00Z, was '"
          + value + "'");
    }
  }

  /**
   * The demo tokens are public (they are in the README): a node that accepts them must not be
   * reachable from another host, so every port it binds must be on loopback.
   */
  private static void requireLoopback(Config config) {
    TransportSecurity.blankBindsOffLoopback(config, TransportSecurity.MANAGEMENT_HOST,
        TransportSecurity.MANAGEMENT_BIND).ifPresent(address -> {
          throw new ConfigException.BadValue("clearinghouse.demo.enabled", "the demo tokens are accepted only by a "
              + "node bound to loopback, but " + TransportSecurity.MANAGEMENT_HOST + " and "
              + TransportSecurity.MANAGEMENT_BIND + " are blank, which binds the management port to this machine's "
              + "address " + address + ": bind to 127.0.0.1 or configure clearinghouse.auth.tokens instead");
        });
    for (String key : DEMO_LOOPBACK_KEYS) {
      if (!config.hasPath(key) || config.getString(key).isBlank()) {
        continue;
      }
      String host = config.getString(key);
      if (!isLoopback(host)) {
        throw new ConfigException.BadValue("clearinghouse.demo.enabled", "the demo tokens are accepted only by a node "
            + "bound to loopback, but " + key + " is '" + host + "': bind to 127.0.0.1 or configure "
            + "clearinghouse.auth.tokens instead");
      }
    }
  }

  public static boolean isLoopback(String host) {
    return io.clearinghouse.common.Hosts.isLoopback(host);
  }

  /**
   * A feeder token speaks for the sources it names and for no other: it must name at least one,
   * each configured in {@code clearinghouse.price-feed.sources}, and none named by another token,
   * so that {@code min-sources} and a jump's majority count independent feeders.
   */
  private static void claimSources(String name, List<String> sources, String path, Set<String> configured,
      Map<String, String> owners) {
    if (sources.isEmpty()) {
      throw new ConfigException.BadValue(path, "a feeder token must name its sources (one or more of "
          + new java.util.TreeSet<>(configured) + ")");
    }
    for (String source : sources) {
      if (!configured.contains(source)) {
        throw new ConfigException.BadValue(path, "'" + source + "' is not one of clearinghouse.price-feed.sources "
            + new java.util.TreeSet<>(configured));
      }
      String owner = owners.putIfAbsent(source, name);
      if (owner != null) {
        throw new ConfigException.BadValue(path, "source '" + source + "' already belongs to the feeder token '"
            + owner + "': no two tokens share a source");
      }
    }
  }

  /**
   * Whether one client token owns both accounts: a trade between them is a wash trade, which
   * must not reach the mark price.
   */
  public boolean sameOwner(String accountA, String accountB) {
    Set<String> ownersA = ownersByAccount.getOrDefault(accountA, Set.of());
    Set<String> ownersB = ownersByAccount.getOrDefault(accountB, Set.of());
    return ownersA.stream().anyMatch(ownersB::contains);
  }

  private static Role parseRole(String value, String path) {
    try {
      return Role.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(path, "unknown role '" + value + "', expected one of operator, client, engine, feeder, monitor");
    }
  }

  public static String sha256Hex(String token) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
    }
  }

  /** The caller, who must hold {@code role}. */
  public Principal require(Metadata metadata, Role role) {
    return require(metadata.getText("authorization"), role);
  }

  /** The caller of an HTTP route, from its {@code Authorization} header, who must hold {@code role}. */
  public Principal require(Optional<String> authorizationHeader, Role role) {
    Principal principal = authenticate(authorizationHeader);
    if (principal.role() != role) {
      throw new RejectedException(Rejection.WRONG_ROLE,
          "this call needs " + switch (role) {
            case OPERATOR -> "an operator";
            case ENGINE -> "an engine";
            case FEEDER -> "a feeder";
            case CLIENT -> "a client";
            case MONITOR -> "a monitor";
          } + " token");
    }
    return principal;
  }

  /**
   * The caller of a read-only management route, from its {@code Authorization} header: an operator
   * or a monitor token; any other role is refused WRONG_ROLE, a missing, unknown or expired token
   * as {@link #authenticate(Optional)} refuses it.
   */
  public Principal requireReader(Optional<String> authorizationHeader) {
    Principal principal = authenticate(authorizationHeader);
    if (principal.role() != Role.OPERATOR && principal.role() != Role.MONITOR) {
      throw new RejectedException(Rejection.WRONG_ROLE, "this call needs an operator or a monitor token");
    }
    return principal;
  }

  /** Refuses a client that does not own {@code accountId}. */
  public static void requireOwner(Principal client, String accountId) {
    if (!client.owns(accountId)) {
      throw new RejectedException(Rejection.NOT_ACCOUNT_OWNER, "account " + accountId + " is not yours");
    }
  }

  /** Any valid token, whatever its role. */
  public Principal authenticate(Metadata metadata) {
    return authenticate(metadata.getText("authorization"));
  }

  /** The caller named by an {@code Authorization} header, if it is a known bearer token; never throws. */
  public Optional<Principal> identify(Optional<String> authorizationHeader) {
    try {
      return Optional.of(authenticate(authorizationHeader));
    } catch (RejectedException e) {
      return Optional.empty();
    }
  }

  /**
   * How long the token of a valid {@code authorization} header has left (zero once expired), or
   * empty when it has no expiry (or the header names no token): a stream it opened ends then.
   */
  public Optional<java.time.Duration> remaining(Optional<String> header) {
    // Read exactly as authenticate reads it (trimmed first), so no header it accepts escapes expiry.
    String value = header.map(String::trim).orElse("");
    if (value.length() > MAX_TOKEN_LENGTH || !value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return Optional.empty();
    }
    Instant expiry = expiries.get(sha256Hex(value.substring(BEARER.length()).trim()));
    if (expiry == null) {
      return Optional.empty();
    }
    java.time.Duration left = java.time.Duration.between(clock.instant(), expiry);
    return Optional.of(left.isNegative() ? java.time.Duration.ZERO : left);
  }

  /** As {@link #remaining(Optional)}, for a gRPC call's metadata. */
  public Optional<java.time.Duration> remaining(Metadata metadata) {
    return remaining(metadata.getText("authorization"));
  }

  /** Any valid token, from the value of an {@code authorization} header, whatever its role. */
  public Principal authenticate(Optional<String> header) {
    if (header.isEmpty() || header.get().isBlank()) {
      throw new RejectedException(Rejection.MISSING_TOKEN, "send 'authorization: Bearer <token>'");
    }
    String value = header.get().trim();
    if (value.length() > MAX_TOKEN_LENGTH || !value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      throw new RejectedException(Rejection.UNKNOWN_TOKEN, "the authorization header must be 'Bearer <token>'");
    }
    String hash = sha256Hex(value.substring(BEARER.length()).trim());
    Principal principal = byTokenHash.get(hash);
    if (principal == null) {
      throw new RejectedException(Rejection.UNKNOWN_TOKEN, "unknown token");
    }
    Instant expiry = expiries.get(hash);
    if (expiry != null && !clock.instant().isBefore(expiry)) {
      throw new RejectedException(Rejection.TOKEN_EXPIRED, "the token '" + principal.name() + "' expired at " + expiry);
    }
    return principal;
  }
}
