package io.toedit;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Dependencies point inward: the edit rule and the drift statistics know nothing of Kafka or DJL. */
class ArchitectureTest {

  private static final JavaClasses CLASSES = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("io.toedit");

  @Test
  void editAndDriftShouldNotDependOnKafkaDjlOrOuterPackages() {
    noClasses().that().resideInAnyPackage("io.toedit.edit..", "io.toedit.drift..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "org.apache.kafka..", "ai.djl..", "io.toedit.model..", "io.toedit.stream..",
            "io.toedit.serve..", "io.toedit.cli..", "io.micrometer..", "org.apache.avro..")
        .check(CLASSES);
  }

  @Test
  void modelShouldNotDependOnKafkaOrStreams() {
    noClasses().that().resideInAPackage("io.toedit.model..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "org.apache.kafka..", "io.toedit.stream..", "io.toedit.serve..", "io.toedit.cli..")
        .check(CLASSES);
  }

  @Test
  void pipelineShouldNotDependOnKafkaOrOuterPackages() {
    noClasses().that().resideInAPackage("io.toedit.pipeline..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "org.apache.kafka..", "io.toedit.stream..", "io.toedit.serve..", "io.toedit.cli..")
        .check(CLASSES);
  }

  @Test
  void onlyTheCliShouldDependOnTheCli() {
    noClasses().that().resideOutsideOfPackage("io.toedit.cli..")
        .should().dependOnClassesThat().resideInAPackage("io.toedit.cli..")
        .check(CLASSES);
  }
}
