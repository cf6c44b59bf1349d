package io.clearinghouse.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code chctl}: the command-line client of a running clearing house, over the gRPC API and the
 * management HTTP port. Each command is one annotated method (its arguments, arity and help) in
 * {@link AccountCommands}, {@link MarketCommands}, {@link LiquidationCommands},
 * {@link ReserveCommands}, {@link OperationsCommands} or {@link TokenCommands}.
 * Exit status: 0 done, 1 refused or failed (the reason on stderr), 64
 * a malformed command line, 69 the node did not answer or answered UNAVAILABLE (retry later).
 */
@Command(name = "chctl", mixinStandardHelpOptions = true, version = "chctl for the clearing.v1 API",
    description = "Command-line client of a running clearing house (gRPC API and management HTTP port).",
    footer = {"", "Environment: CLEARINGHOUSE_TOKEN (the bearer token), CLEARINGHOUSE_GRPC, CLEARINGHOUSE_MANAGEMENT,",
        "CLEARINGHOUSE_TLS, CLEARINGHOUSE_CA_FILE.",
        "Shell completion: source <(chctl completion)"},
    subcommands = CommandLine.HelpCommand.class, exitCodeOnInvalidInput = Chctl.USAGE, sortOptions = false)
public final class Chctl implements AutoCloseable {
  static final String GRPC = "127.0.0.1:8080";
  static final String MANAGEMENT = "http://127.0.0.1:8558";
  static final int USAGE = 64;
  static final int FAILED = 1;
  /** The node did not answer (or answered UNAVAILABLE: retry later). */
  static final int UNAVAILABLE = 69;

  @Option(names = "--grpc", scope = ScopeType.INHERIT, paramLabel = "HOST:PORT",
      description = "the node's gRPC address (CLEARINGHOUSE_GRPC, else " + Chctl.GRPC + ")")
  String grpc;

  @Option(names = "--management", scope = ScopeType.INHERIT, paramLabel = "URL",
      description = "the node's management HTTP address (CLEARINGHOUSE_MANAGEMENT, else " + Chctl.MANAGEMENT + ")")
  String management;

  @Option(names = {"-o", "--output"}, scope = ScopeType.INHERIT, paramLabel = "FORMAT", defaultValue = "text",
      description = "text or json: the API's message as proto3 JSON, one line per streamed message (${DEFAULT-VALUE})")
  Session.Output output;

  @Option(names = "--timeout", scope = ScopeType.INHERIT, paramLabel = "SECONDS", defaultValue = "30",
      description = "how long a call may take (${DEFAULT-VALUE} s; streams have none)")
  int timeoutSeconds;

  @Option(names = "--tls", scope = ScopeType.INHERIT,
      description = "speak TLS to the gRPC port, trusting the system's authorities (CLEARINGHOUSE_TLS=on)")
  boolean tls;

  @Option(names = "--ca-file", scope = ScopeType.INHERIT, paramLabel = "PEM",
      description = "speak TLS to the gRPC port and to an https:// management URL, trusting this authority only "
          + "(CLEARINGHOUSE_CA_FILE)")
  String caFile;

  private final Map<String, String> env;
  private final PrintStream out;
  private Session session;

  /** chctl with {@code env} in place of the process environment, printing to {@code out} (tests run it so). */
  public Chctl(Map<String, String> env, PrintStream out) {
    this.env = env;
    this.out = out;
  }

  public static void main(String[] args) {
    int status;
    try (Chctl chctl = new Chctl(System.getenv(), System.out)) {
      status = chctl.commandLine(new PrintWriter(System.err, true)).execute(args);
    }
    System.exit(status);
  }

  /** The command line with every command method of the command classes. */
  public CommandLine commandLine(PrintWriter err) {
    CommandLine line = new CommandLine(this);
    for (Class<?> commands : List.of(AccountCommands.class, MarketCommands.class, LiquidationCommands.class,
        ReserveCommands.class, OperationsCommands.class, FundingCommands.class, SettlementCommands.class,
        TokenCommands.class, RiskCommands.class, CascadeCommands.class)) {
      for (Method method : CommandLine.getCommandMethods(commands, null)) {
        line.addSubcommand(new CommandLine(method));
      }
    }
    // A move such as -20% is a parameter, not an option.
    line.getSubcommands().get("stress").setUnmatchedOptionsArePositionalParams(true);
    line.addSubcommand(new CommandLine(new Completion()));
    line.getSubcommands().values().forEach(command -> command.getCommandSpec().exitCodeOnInvalidInput(USAGE));
    line.setCaseInsensitiveEnumValuesAllowed(true);
    line.setOut(new PrintWriter(out, true));
    line.setErr(err);
    line.setExecutionExceptionHandler((e, commandLine, parsed) -> failed(e, commandLine.getErr()));
    return line;
  }

  /** The connection of this call, from the options (which subcommands inherit). */
  Session session() {
    if (session == null) {
      session = new Session(grpc != null ? grpc : env.getOrDefault("CLEARINGHOUSE_GRPC", GRPC),
          management != null ? management : env.getOrDefault("CLEARINGHOUSE_MANAGEMENT", MANAGEMENT),
          env.getOrDefault("CLEARINGHOUSE_TOKEN", ""), output,
          Duration.ofSeconds(timeoutSeconds), out, transport());
    }
    return session;
  }

  /** Plaintext, TLS with the system's trust, or TLS trusting one authority's PEM file. */
  private Session.Transport transport() {
    String ca = caFile != null ? caFile : env.getOrDefault("CLEARINGHOUSE_CA_FILE", "");
    boolean on = tls || List.of("on", "true", "1", "yes").contains(env.getOrDefault("CLEARINGHOUSE_TLS", "")
        .toLowerCase(java.util.Locale.ROOT));
    return new Session.Transport(on || !ca.isEmpty(), ca.isEmpty() ? null : java.nio.file.Path.of(ca));
  }

  java.io.PrintStream out() {
    return out;
  }

  private static int failed(Exception e, PrintWriter err) {
    if (e instanceof StatusRuntimeException status) {
      String description = status.getStatus().getDescription();
      err.println("error: " + status.getStatus().getCode() + (description == null ? "" : " " + description));
      return status.getStatus().getCode() == Status.Code.UNAVAILABLE ? UNAVAILABLE : FAILED;
    }
    if (e instanceof Session.Unreachable unreachable) {
      err.println("error: " + unreachable.getMessage());
      return UNAVAILABLE;
    }
    if (e instanceof IllegalArgumentException bad) {
      err.println("chctl: " + bad.getMessage());
      return USAGE;
    }
    err.println("error: " + e);
    return FAILED;
  }

  @Override
  public void close() {
    if (session != null) {
      session.close();
    }
  }

  /** Prints the bash completion script picocli generates from these very declarations. */
  @Command(name = "completion", description = {"Print a bash completion script for chctl.",
      "Use: source <(./chctl completion)"})
  static final class Completion implements java.util.concurrent.Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().getOut().print(AutoComplete.bash("chctl", spec.root().commandLine()));
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
