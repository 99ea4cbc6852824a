package io.toedit.pipeline;

/** A document to edit: its stable id (which keys the random draws) and its text. */
public record SourceDocument(String id, String text) {
}
