package io.clearinghouse.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** A cascade's progress while it runs, from the management port's {@code GET /cascade}. */
final class CascadeCommands {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);

  private CascadeCommands() {}

  @Command(name = "cascade", description = {
      "A cascade's progress, cluster-wide (management HTTP /cascade): liquidations started and settled (since",
      "each node started), pending (sagas running now), started and settled per second over the last 10 s, and",
      "each insurance fund's balance. One line a second until Ctrl-C, or one with --once; -o json: the",
      "route's JSON, one object a line."})
  static int cascade(@Mixin Call call,
      @Option(names = "--once", description = "print one line and stop") boolean once,
      @Option(names = "--count", paramLabel = "N", description = "stop after N lines") Long count) {
    Session s = call.session();
    long printed = 0;
    while (true) {
      long started = System.nanoTime();
      HttpResponse<String> response = s.get("/cascade");
      if (response.statusCode() != 200) {
        call.command.commandLine().getErr().println("error: HTTP " + response.statusCode() + ": "
            + response.body().strip());
        return response.statusCode() == 503 ? Chctl.UNAVAILABLE : Chctl.FAILED;
      }
      s.out().println(s.output() == Session.Output.json ? compact(response.body()) : line(response.body()));
      s.out().flush();
      printed++;
      if (once || (count != null && printed >= count)) {
        return 0;
      }
      long waitMillis = 1000 - (System.nanoTime() - started) / 1_000_000;
      if (waitMillis > 0) {
        try {
          Thread.sleep(waitMillis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return 0;
        }
      }
    }
  }

  private static String compact(String body) {
    return JsonParser.parseString(body).toString();
  }

  /**
   * One line for people: {@code 12:00:01  started 40  settled 35  pending 5  started/s 4.0
   * settled/s 3.5  fund BTCUSDT-PERP 933.849999}, and the nodes that did not answer.
   */
  static String line(String body) {
    JsonObject view = JsonParser.parseString(body).getAsJsonObject();
    StringBuilder line = new StringBuilder(TIME.format(Instant.ofEpochMilli(view.get("epochMillis").getAsLong())));
    line.append("  started ").append(view.get("started").getAsLong())
        .append("  settled ").append(view.get("settled").getAsLong())
        .append("  pending ").append(view.get("pending").getAsLong())
        .append("  started/s ").append(view.get("startedPerSecond").getAsString())
        .append("  settled/s ").append(view.get("settledPerSecond").getAsString());
    for (Map.Entry<String, JsonElement> fund : view.getAsJsonObject("funds").entrySet()) {
      line.append("  fund ").append(fund.getKey()).append(' ')
          .append(fund.getValue().getAsJsonObject().get("balance").getAsString());
    }
    var unanswered = view.getAsJsonArray("unanswered");
    if (unanswered != null && !unanswered.isEmpty()) {
      line.append("  (not answering: ").append(unanswered.size()).append(" node")
          .append(unanswered.size() == 1 ? "" : "s").append(')');
    }
    return line.toString();
  }
}
