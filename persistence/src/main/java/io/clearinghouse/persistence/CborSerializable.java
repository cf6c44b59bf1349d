package io.clearinghouse.persistence;

/**
 * Marker for commands, events and state that Pekko serializes with Jackson CBOR (bound in this
 * module's reference.conf). Implement it on top-level or static nested records: Jackson cannot
 * read back non-static inner classes.
 */
public interface CborSerializable {
}
