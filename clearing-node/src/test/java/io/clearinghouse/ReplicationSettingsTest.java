package io.clearinghouse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.clearinghouse.persistence.CassandraSchema;
import org.junit.jupiter.api.Test;

/** The schema step's replication: configured, and at least 3 unless Cassandra is on this machine. */
class ReplicationSettingsTest {
  private static final String NTS = "{'class': 'NetworkTopologyStrategy', 'dc1': 3, 'dc2': '2'}";

  @Test
  void theSmallestFactorOfAMapIsItsFactor() {
    assertEquals(1, CassandraSchema.minimumFactor(CassandraSchema.DEFAULT_REPLICATION));
    assertEquals(2, CassandraSchema.minimumFactor(NTS));
    assertEquals(3, CassandraSchema.minimumFactor("{'class':'SimpleStrategy','replication_factor':3}"));
    assertThrows(IllegalArgumentException.class, () -> CassandraSchema.minimumFactor("{'class': 'SimpleStrategy'}"));
  }

  @Test
  void aFactorUnderThreeIsRefusedOutsideLocalMode() {
    var single = ConfigFactory.load();
    assertEquals(CassandraSchema.DEFAULT_REPLICATION, LocalServices.replication(single, "127.0.0.1:9042"));
    ConfigException e = assertThrows(ConfigException.class, () -> LocalServices.replication(single, "cassandra:9042"));
    assertTrue(e.getMessage().contains("clearinghouse.persistence.replication") && e.getMessage().contains("factor 1"),
        e.getMessage());
    var two = ConfigFactory.parseString("clearinghouse.persistence.replication = \"" + NTS + "\"")
        .withFallback(ConfigFactory.load());
    assertThrows(ConfigException.class, () -> LocalServices.replication(two, "10.0.0.5:9042"));
    var three = ConfigFactory.parseString("clearinghouse.persistence.replication = "
        + "\"{'class': 'NetworkTopologyStrategy', 'dc1': 3}\"").withFallback(ConfigFactory.load());
    assertEquals("{'class': 'NetworkTopologyStrategy', 'dc1': 3}", LocalServices.replication(three, "cassandra:9042"));
  }
}
