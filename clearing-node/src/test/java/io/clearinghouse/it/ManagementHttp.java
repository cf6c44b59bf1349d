package io.clearinghouse.it;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Plain HTTP calls to a node's management port, as an SRE's tools make them. */
final class ManagementHttp {
  private ManagementHttp() {}

  static HttpResponse<String> post(HttpClient http, String uri, String token) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError("POST " + uri + " failed", e);
    }
  }

  /** One instrument's entry of {@code /health/markets} ({@code base}: the management URI without its final slash). */
  static com.fasterxml.jackson.databind.JsonNode market(HttpClient http, String base, String instrument) {
    String body = get(http, base + "/health/markets").body();
    com.fasterxml.jackson.databind.JsonNode root;
    try {
      root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body);
    } catch (java.io.IOException e) {
      throw new AssertionError("not JSON: " + body, e);
    }
    for (var entry : root.get("instruments")) {
      if (entry.get("instrument").asText().equals(instrument)) {
        return entry;
      }
    }
    throw new AssertionError(instrument + " missing from " + body);
  }

  static HttpResponse<String> get(HttpClient http, String uri) {
    return get(http, uri, null);
  }

  /** A GET with {@code token} ({@code Authorization: Bearer ...}), or without one when it is null. */
  static HttpResponse<String> get(HttpClient http, String uri, String token) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(10));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    try {
      return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError("GET " + uri + " failed", e);
    }
  }

  /**
   * A GET of a route that needs an operator (or a monitor) token (/metrics, /shards,
   * /insurance-funds, /cascade, /liquidations/halted), with the operator's.
   */
  static HttpResponse<String> operatorGet(HttpClient http, String uri) {
    return get(http, uri, TestNodes.OPERATOR_TOKEN);
  }
}
