package io.clearinghouse;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.money.Asset;

/**
 * The node's own settings, read and checked once at start. A bad value stops the node with an
 * exception that names the configuration key.
 */
public record NodeSettings(
    Asset asset, AccountSettings account, Instruments instruments, String grpcHost, int grpcPort, boolean joinSelf,
    int tradeParallelism) {

  public static NodeSettings fromConfig(Config config) {
    Asset asset;
    try {
      asset = new Asset(config.getString("clearinghouse.settlement-asset.code"),
          config.getInt("clearinghouse.settlement-asset.scale"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue("clearinghouse.settlement-asset", e.getMessage());
    }
    AccountSettings account;
    try {
      account = AccountSettings.fromConfig(config, asset);
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue("clearinghouse.account", e.getMessage());
    }
    int grpcPort = config.getInt("clearinghouse.grpc.port");
    if (grpcPort < 0 || grpcPort > 65535) {
      throw new ConfigException.BadValue("clearinghouse.grpc.port", "must be a TCP port, was " + grpcPort);
    }
    boolean joinSelf = config.getBoolean("clearinghouse.cluster.join-self")
        && config.getStringList("pekko.cluster.seed-nodes").isEmpty();
    Instruments instruments = Instruments.fromConfig(config, asset.scale());
    int tradeParallelism = config.getInt("clearinghouse.clearing.trades-in-flight");
    if (tradeParallelism < 1) {
      throw new ConfigException.BadValue("clearinghouse.clearing.trades-in-flight", "must be at least 1");
    }
    return new NodeSettings(asset, account, instruments, config.getString("clearinghouse.grpc.host"), grpcPort,
        joinSelf, tradeParallelism);
  }
}
