package io.clearinghouse;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.clearinghouse.account.AccountSettings;
import io.clearinghouse.clearing.RegisterSettings;
import io.clearinghouse.instrument.Instruments;
import io.clearinghouse.liquidation.LiquidationSettings;
import io.clearinghouse.money.Asset;
import io.clearinghouse.monitor.StressSettings;
import io.clearinghouse.price.PriceSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's own settings, read and checked once at start. A bad value stops the node with an
 * exception that names the configuration key.
 */
public record NodeSettings(
    Asset asset, AccountSettings account, Instruments instruments, PriceSettings prices, String grpcHost, int grpcPort,
    boolean joinSelf, int tradeParallelism, List<Long> alertLevelsPpm, Duration accountStreamRefresh,
    LiquidationSettings liquidation, RegisterSettings register, StressSettings stress,
    io.clearinghouse.price.VolatilityBoard.Settings volatility) {

  public static NodeSettings fromConfig(Config config) {
    Asset asset;
    try {
      Asset unbounded = new Asset(config.getString("clearinghouse.settlement-asset.code"),
          config.getInt("clearinghouse.settlement-asset.scale"));
      long maxAmount = unbounded.parsePositive(config.getString("clearinghouse.settlement-asset.max-amount"));
      asset = new Asset(unbounded.code(), unbounded.scale(), maxAmount);
    } catch (io.clearinghouse.common.RejectedException e) {
      throw new ConfigException.BadValue("clearinghouse.settlement-asset.max-amount", e.getMessage());
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
    RegisterSettings register;
    try {
      register = RegisterSettings.fromConfig(config);
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue("clearinghouse.clearing", e.getMessage());
    }
    return new NodeSettings(asset, account, instruments, PriceSettings.fromConfig(config),
        config.getString("clearinghouse.grpc.host"), grpcPort, joinSelf, tradeParallelism, alertLevels(config),
        config.getDuration("clearinghouse.alerts.refresh"), LiquidationSettings.fromConfig(config, instruments),
        register, StressSettings.fromConfig(config, instruments),
        io.clearinghouse.price.VolatilityBoard.Settings.fromConfig(config));
  }

  private static List<Long> alertLevels(Config config) {
    String key = "clearinghouse.alerts.margin-ratio-levels";
    List<Long> levels = new ArrayList<>();
    for (String level : config.getStringList(key)) {
      levels.add(io.clearinghouse.common.Ppm.percent(level, key, 1, io.clearinghouse.common.Ppm.MILLION - 1));
    }
    levels.sort(null);
    return List.copyOf(levels);
  }
}
