package io.clearinghouse.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A README's tour as data, and its run: the {@code console} blocks between
 * {@code <!-- tour:begin -->} and {@code <!-- tour:end -->} hold commands ({@code $ } lines, with
 * {@code > } continuation lines) each followed by the output the README promises. The commands run
 * one by one in one bash process (so {@code export}, {@code &} and {@code wait} work as they do in
 * a terminal), stdout and stderr together, and each output is compared line by line with the
 * README's. In an expected line, {@code …} stands for any text (for what no run can repeat, such
 * as a node's random uid); nothing else is variable. The addresses the README names (the default
 * ports) are replaced by the node's in the commands and back in the outputs.
 */
final class ReadmeTour {
  static final String BEGIN = "<!-- tour:begin -->";
  static final String END = "<!-- tour:end -->";
  private static final String SENTINEL = "__tour_step_done__";

  /** One command of the tour and the output the README shows for it. */
  record Step(int line, String command, List<String> expected) {}

  /** What one step printed, and whether it is what the README shows. */
  record Outcome(Step step, List<String> actual, boolean matches) {}

  private ReadmeTour() {}

  static List<Step> parse(Path readme) {
    List<String> lines;
    try {
      lines = Files.readAllLines(readme, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int begin = lines.indexOf(BEGIN);
    int end = lines.indexOf(END);
    if (begin < 0 || end < begin) {
      throw new IllegalStateException(readme + " has no " + BEGIN + " ... " + END + " section");
    }
    List<Step> steps = new ArrayList<>();
    boolean inConsole = false;
    StringBuilder command = null;
    int commandLine = 0;
    List<String> expected = new ArrayList<>();
    for (int i = begin + 1; i < end; i++) {
      String line = lines.get(i);
      if (!inConsole) {
        inConsole = line.equals("```console");
        continue;
      }
      boolean fence = line.equals("```");
      if (fence || line.startsWith("$ ")) {
        if (command != null) {
          steps.add(new Step(commandLine, command.toString(), List.copyOf(expected)));
        }
        command = null;
        expected.clear();
        if (fence) {
          inConsole = false;
          continue;
        }
        command = new StringBuilder(line.substring(2));
        commandLine = i + 1;
      } else if (line.startsWith("> ") && command != null && expected.isEmpty()) {
        command.append('\n').append(line.substring(2));
      } else if (command != null) {
        expected.add(line);
      } else {
        throw new IllegalStateException(readme + ":" + (i + 1) + ": output before any command in a console block");
      }
    }
    return steps;
  }

  /**
   * Runs {@code steps} in one bash in {@code workDir} with {@code env} added, replacing the
   * README's addresses ({@code addresses}: README's to the node's) in each command.
   */
  static List<Outcome> run(List<Step> steps, Path workDir, Map<String, String> env, Map<String, String> addresses,
      Duration stepTimeout) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder("bash", "--noprofile", "--norc")
        .directory(workDir.toFile())
        .redirectErrorStream(true);
    builder.environment().keySet().removeIf(key -> key.startsWith("CLEARINGHOUSE_"));
    builder.environment().putAll(env);
    Process bash = builder.start();
    // bash's output, line by line, read on a thread of its own so that a step can wait with a timeout.
    BlockingQueue<String> printed = new LinkedBlockingQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader out = new BufferedReader(new InputStreamReader(bash.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null; line = out.readLine()) {
          printed.add(line);
        }
      } catch (IOException e) {
        printed.add("(tour: cannot read bash's output: " + e + ")");
      }
    }, "readme-tour-output");
    reader.setDaemon(true);
    reader.start();
    List<Outcome> outcomes = new ArrayList<>();
    try (Writer in = new OutputStreamWriter(bash.getOutputStream(), StandardCharsets.UTF_8)) {
      for (Step step : steps) {
        String command = step.command();
        for (Map.Entry<String, String> address : addresses.entrySet()) {
          command = command.replace(address.getKey(), address.getValue());
        }
        in.write(command + "\necho " + SENTINEL + "\n");
        in.flush();
        List<String> actual = new ArrayList<>();
        long deadline = System.nanoTime() + stepTimeout.toNanos();
        while (true) {
          String line = printed.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          if (line == null) {
            throw new AssertionError("README line " + step.line() + " did not finish within " + stepTimeout + ": "
                + step.command() + "\nprinted so far: " + actual);
          }
          if (line.equals(SENTINEL)) {
            break;
          }
          for (Map.Entry<String, String> address : addresses.entrySet()) {
            line = line.replace(address.getValue(), address.getKey());
          }
          actual.add(line.stripTrailing());
        }
        outcomes.add(new Outcome(step, List.copyOf(actual), matches(step.expected(), actual)));
      }
      in.write("exit\n");
      in.flush();
    } finally {
      if (!bash.waitFor(10, TimeUnit.SECONDS)) {
        bash.destroyForcibly();
      }
    }
    return outcomes;
  }

  static boolean matches(List<String> expected, List<String> actual) {
    if (expected.size() != actual.size()) {
      return false;
    }
    for (int i = 0; i < expected.size(); i++) {
      String want = expected.get(i).stripTrailing();
      String got = actual.get(i);
      if (want.contains("…")) {
        StringBuilder regex = new StringBuilder();
        for (String part : want.split("…", -1)) {
          if (regex.length() > 0) {
            regex.append(".*");
          }
          regex.append(Pattern.quote(part));
        }
        if (!got.matches(regex.toString())) {
          return false;
        }
      } else if (!want.equals(got)) {
        return false;
      }
    }
    return true;
  }

  /** The README with every tour output replaced by what this run printed (to review and adopt). */
  static String withActualOutputs(Path readme, List<Outcome> outcomes) throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(readme, StandardCharsets.UTF_8));
    // From the last step back, so that earlier line numbers stay valid.
    for (int i = outcomes.size() - 1; i >= 0; i--) {
      Outcome outcome = outcomes.get(i);
      int firstOutput = outcome.step().line() + (int) outcome.step().command().lines().count() - 1;
      List<String> replacement = outcome.matches() ? outcome.step().expected() : outcome.actual();
      for (int k = 0; k < outcome.step().expected().size(); k++) {
        lines.remove(firstOutput);
      }
      lines.addAll(firstOutput, replacement);
    }
    return String.join("\n", lines) + "\n";
  }
}
