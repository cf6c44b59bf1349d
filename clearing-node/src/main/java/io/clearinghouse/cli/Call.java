package io.clearinghouse.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What a command method gets from the command line besides its arguments: the session of this
 * chctl call, built from the options of {@link Chctl} (a picocli mixin, so picocli injects it).
 */
@Command
final class Call {
  @Spec(Spec.Target.MIXEE)
  CommandSpec command;

  Session session() {
    return ((Chctl) command.root().userObject()).session();
  }

  /** The output format asked for, without opening a session. */
  Session.Output output() {
    return ((Chctl) command.root().userObject()).output;
  }

  /** Where results are printed, without opening a session. */
  java.io.PrintStream out() {
    return ((Chctl) command.root().userObject()).out();
  }
}
