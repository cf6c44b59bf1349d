package io.clearinghouse.arch;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package graph of the node's main code points one way: money rules ({@code common},
 * {@code money}, {@code margin}, {@code instrument}) &lt;- entities ({@code account},
 * {@code clearing}, {@code liquidation}, {@code monitor}, {@code funding}, {@code expiry}, {@code price},
 * {@code metrics}) &lt;-
 * services ({@code audit}) &lt;- the edges ({@code api}, {@code ops}, {@code cli}) &lt;- {@code Main}.
 * A change that adds a cycle, or makes a lower layer reach up, fails here.
 */
class PackageGraphTest {
  private static JavaClasses main;

  @BeforeAll
  static void importMainCode() {
    // The node's own classes only (not the generated protocol or the persistence module).
    main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPath(java.nio.file.Path.of("target", "classes"));
  }

  @Test
  void theNodesClassesAreThere() {
    org.junit.jupiter.api.Assertions.assertTrue(main.contain(io.clearinghouse.Main.class), "nothing imported");
  }

  @Test
  void noPackageCycles() {
    slices().matching("io.clearinghouse.(*)..").should().beFreeOfCycles().check(main);
  }

  @Test
  void theMoneyRulesArePureAndDependOnNothingAboveThem() {
    noClasses().that().resideInAnyPackage("io.clearinghouse.margin..", "io.clearinghouse.money..",
            "io.clearinghouse.common..")
        .should().dependOnClassesThat().resideInAnyPackage("org.apache.pekko..", "io.clearinghouse.account..",
            "io.clearinghouse.clearing..", "io.clearinghouse.liquidation..", "io.clearinghouse.monitor..",
            "io.clearinghouse.price..", "io.clearinghouse.api..", "io.clearinghouse.ops..", "io.clearinghouse.audit..")
        .check(main);
  }

  @Test
  void entitiesNeverReachTheServicesOrTheEdges() {
    noClasses().that().resideInAnyPackage("io.clearinghouse.account..", "io.clearinghouse.clearing..",
            "io.clearinghouse.liquidation..", "io.clearinghouse.monitor..", "io.clearinghouse.price..",
            "io.clearinghouse.metrics..", "io.clearinghouse.instrument..", "io.clearinghouse.funding..",
            "io.clearinghouse.expiry..")
        .should().dependOnClassesThat().resideInAnyPackage("io.clearinghouse.audit..", "io.clearinghouse.api..",
            "io.clearinghouse.ops..", "io.clearinghouse.cli..")
        .check(main);
  }

  @Test
  void onlyMainWiresTheEdges() {
    noClasses().that().resideOutsideOfPackages("io.clearinghouse", "io.clearinghouse.api..", "io.clearinghouse.ops..",
            "io.clearinghouse.cli..")
        .should().dependOnClassesThat().resideInAnyPackage("io.clearinghouse.api..", "io.clearinghouse.ops..",
            "io.clearinghouse.cli..")
        .check(main);
  }
}
