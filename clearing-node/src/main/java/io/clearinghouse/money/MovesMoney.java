package io.clearinghouse.money;

import java.util.List;

/**
 * A persisted event that moves money: the transfers it makes, between buckets named with the id
 * of the entity whose journal holds it. The entity's event handler, the ledger audit and the
 * liquidation fund-flow record read the same transfers.
 */
public interface MovesMoney {
  List<Transfer> transfers(String entityId);
}
