package io.clearinghouse.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Function;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * A real headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, which
 * {@code .ci/run} installs when missing) driven through Selenium. Screenshots go to
 * {@code clearing-node/target/console/}, and to {@code docs/console/} (the README's pictures) when
 * the build runs with {@code -Dconsole.update-screenshots=true}.
 */
final class Browser implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(30);
  private static final Path CHROMIUM = Path.of(System.getProperty("console.chromium", "/usr/bin/chromium"));
  private static final Path DRIVER = Path.of(System.getProperty("console.chromedriver", "/usr/bin/chromedriver"));

  final ChromeDriver driver;

  Browser() {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(DRIVER)) {
      throw new IllegalStateException("the console's browser tests need Debian's chromium and chromium-driver ("
          + CHROMIUM + ", " + DRIVER + "): apt-get install -y chromium chromium-driver (.ci/run does)");
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
        "--window-size=1400,1000", "--force-device-scale-factor=1");
    // The page's console messages, where Chromium reports what the Content-Security-Policy refused.
    org.openqa.selenium.logging.LoggingPreferences logs = new org.openqa.selenium.logging.LoggingPreferences();
    logs.enable(org.openqa.selenium.logging.LogType.BROWSER, java.util.logging.Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(DRIVER.toFile())
        .usingAnyFreePort().build();
    driver = new ChromeDriver(service, options);
  }

  <T> T until(Function<WebDriver, T> condition) {
    // The page re-renders tables on live events: an element found a moment ago may be replaced.
    return new WebDriverWait(driver, WAIT, Duration.ofMillis(100))
        .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(condition);
  }

  WebElement find(String css) {
    return until(d -> {
      var found = d.findElements(By.cssSelector(css));
      return found.isEmpty() || !found.get(0).isDisplayed() ? null : found.get(0);
    });
  }

  /** Clicks the element, found again if the page re-rendered it in between. */
  void click(String css) {
    until(d -> {
      try {
        find(css).click();
        return true;
      } catch (org.openqa.selenium.StaleElementReferenceException e) {
        return null;
      }
    });
  }

  /** Waits until the element's text is {@code text}. */
  void text(String css, String text) {
    until(d -> {
      var found = d.findElements(By.cssSelector(css));
      return !found.isEmpty() && found.get(0).getText().equals(text);
    });
  }

  /** The page's console messages since last asked that report a Content-Security-Policy refusal. */
  java.util.List<String> policyViolations() {
    return driver.manage().logs().get(org.openqa.selenium.logging.LogType.BROWSER).getAll().stream()
        .map(org.openqa.selenium.logging.LogEntry::getMessage)
        .filter(m -> m.contains("Content Security Policy") || m.contains("Content-Security-Policy")).toList();
  }

  void screenshot(String name) {
    byte[] png = driver.getScreenshotAs(OutputType.BYTES);
    try {
      Path target = Path.of("target", "console");
      Files.createDirectories(target);
      Files.write(target.resolve(name + ".png"), png);
      if (Boolean.getBoolean("console.update-screenshots")) {
        Path docs = Path.of("..", "docs", "console");
        Files.createDirectories(docs);
        Files.write(docs.resolve(name + ".png"), png);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    driver.quit();
  }
}
