package io.toedit;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * Dependencies point inward, in the order of the pipeline: {@code text} (tokens, scores, vocabulary)
 * and {@code document} (the JSON document format) at the centre; {@code model} (the prior), {@code edit} (the rule) and {@code drift} (statistics)
 * beside each other; {@code pipeline} joins model and edit; {@code stream} and
 * {@code stream.drift} put them on Kafka; {@code serve} exposes them; {@code local} is development
 * tooling; {@code cli} wires everything.
 */
class ArchitectureTest {

  private static final JavaClasses CLASSES = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("io.toedit");

  @Test
  void textShouldDependOnNothingOfOurs() {
    noClasses().that().resideInAPackage("io.toedit.text..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.toedit.model..", "io.toedit.edit..", "io.toedit.drift..", "io.toedit.pipeline..",
            "io.toedit.stream..", "io.toedit.serve..", "io.toedit.local..", "io.toedit.cli..",
            "org.apache.kafka..", "ai.djl..", "org.apache.avro..")
        .check(CLASSES);
  }

  @Test
  void theDocumentFormatShouldDependOnNothingOfOursButTheAvroContract() {
    noClasses().that().resideInAPackage("io.toedit.document..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.toedit.text..", "io.toedit.model..", "io.toedit.edit..", "io.toedit.drift..",
            "io.toedit.pipeline..", "io.toedit.stream..", "io.toedit.serve..", "io.toedit.local..",
            "io.toedit.cli..", "io.toedit.config..", "org.apache.kafka..", "ai.djl..")
        .check(CLASSES);
  }

  @Test
  void configValuesShouldDependOnNothingOfOurs() {
    noClasses().that().resideInAPackage("io.toedit.config..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.toedit.text..", "io.toedit.document..", "io.toedit.model..", "io.toedit.edit..",
            "io.toedit.drift..", "io.toedit.pipeline..", "io.toedit.stream..", "io.toedit.serve..",
            "io.toedit.local..", "io.toedit.cli..", "org.apache.kafka..", "ai.djl..")
        .check(CLASSES);
  }

  @Test
  void editAndDriftShouldNotDependOnKafkaDjlOrOuterPackages() {
    noClasses().that().resideInAnyPackage("io.toedit.edit..", "io.toedit.drift..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "org.apache.kafka..", "ai.djl..", "io.toedit.model..", "io.toedit.pipeline..",
            "io.toedit.stream..", "io.toedit.serve..", "io.toedit.local..", "io.toedit.cli..",
            "io.micrometer..", "org.apache.avro..")
        .check(CLASSES);
  }

  @Test
  void modelShouldNotDependOnTheEditRuleKafkaOrStreams() {
    noClasses().that().resideInAPackage("io.toedit.model..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.toedit.edit..", "io.toedit.drift..", "io.toedit.pipeline..", "org.apache.kafka..",
            "io.toedit.stream..", "io.toedit.serve..", "io.toedit.local..", "io.toedit.cli..")
        .check(CLASSES);
  }

  @Test
  void pipelineShouldNotDependOnKafkaOrOuterPackages() {
    noClasses().that().resideInAPackage("io.toedit.pipeline..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "org.apache.kafka..", "io.toedit.stream..", "io.toedit.serve..", "io.toedit.local..",
            "io.toedit.cli..")
        .check(CLASSES);
  }

  @Test
  void driftTopologyShouldNotDependOnTheEditingTopology() {
    noClasses().that().resideInAPackage("io.toedit.stream.drift..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.toedit.stream", "io.toedit.edit..", "io.toedit.model..", "io.toedit.pipeline..",
            "io.toedit.serve..", "io.toedit.local..", "io.toedit.cli..")
        .check(CLASSES);
  }

  @Test
  void theApplicationShouldNotDependOnDevelopmentTooling() {
    noClasses().that().resideOutsideOfPackages("io.toedit.local..", "io.toedit.cli..")
        .should().dependOnClassesThat().resideInAPackage("io.toedit.local..")
        .check(CLASSES);
  }

  @Test
  void onlyTheCliShouldDependOnTheCli() {
    noClasses().that().resideOutsideOfPackage("io.toedit.cli..")
        .should().dependOnClassesThat().resideInAPackage("io.toedit.cli..")
        .check(CLASSES);
  }
}
