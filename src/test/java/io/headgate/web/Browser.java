package io.headgate.web;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * A real headless Chromium driven through chromedriver: Debian's {@code chromium} and
 * {@code chromium-driver} ({@code /usr/bin/chromium}, {@code /usr/bin/chromedriver}, or
 * {@code HEADGATE_CHROMIUM} and {@code HEADGATE_CHROMEDRIVER}). Missing, they fail the tests
 * that need them, saying what to install; nothing is downloaded.
 */
final class Browser implements AutoCloseable {

    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    final WebDriver driver;
    private final WebDriverWait wait;

    private Browser(WebDriver driver) {
        this.driver = driver;
        this.wait = new WebDriverWait(driver, Duration.ofSeconds(60));
    }

    static Browser start() {
        Path chromium = Path.of(env("HEADGATE_CHROMIUM", "/usr/bin/chromium"));
        Path chromedriver = Path.of(env("HEADGATE_CHROMEDRIVER", "/usr/bin/chromedriver"));
        for (Path p : List.of(chromium, chromedriver)) {
            if (!Files.isExecutable(p)) {
                throw new AssertionError("no " + p + ": the console's browser tests need Debian's chromium and chromium-driver"
                        + " (apt-get install chromium chromium-driver; .ci/run installs them), or HEADGATE_CHROMIUM and HEADGATE_CHROMEDRIVER");
            }
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(chromium.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver.toFile()).usingAnyFreePort().build();
        return new Browser(new ChromeDriver(service, options));
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    /** Opens the console at {@code url} and waits until it has listed the models. */
    void open(String url) {
        driver.get(url);
        driver.navigate().refresh(); // a new hash alone does not reload the page
        until(d -> "true".equals(d.findElement(By.tagName("body")).getDomAttribute("data-ready")));
    }

    WebElement byId(String id) {
        return driver.findElement(By.id(id));
    }

    List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    /** Types {@code value} into an input, replacing what was there, and leaves it (a change event). */
    void type(String id, String value) {
        WebElement e = byId(id);
        e.clear();
        e.sendKeys(value);
        js("arguments[0].dispatchEvent(new Event('change'))", e);
    }

    void choose(String id, String value) {
        new Select(byId(id)).selectByValue(value);
    }

    void check(String id, boolean on) {
        if (byId(id).isSelected() != on) byId(id).click();
    }

    void click(String id) {
        byId(id).click();
    }

    /**
     * Clicks the element {@code by} finds, finding it again if the page re-rendered it between
     * finding and clicking (a list the page loads twice, say).
     */
    void click(By by) {
        until(d -> {
            try {
                d.findElement(by).click();
                return true;
            } catch (org.openqa.selenium.StaleElementReferenceException | org.openqa.selenium.NoSuchElementException e) {
                return null;
            }
        });
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    <T> T until(Function<WebDriver, T> condition) {
        return wait.until(condition::apply);
    }

    /** Waits for an element's text to contain {@code part}; returns the text. */
    String untilText(String id, String part) {
        return until(d -> {
            String t = d.findElement(By.id(id)).getText();
            return t.contains(part) ? t : null;
        });
    }

    @Override
    public void close() {
        driver.quit();
    }

    /** Saves a screenshot and the page's HTML under target/console-screenshots when a test fails. */
    static final class ScreenshotOnFailure implements TestWatcher {
        private final java.util.function.Supplier<Browser> browser;

        ScreenshotOnFailure(java.util.function.Supplier<Browser> browser) {
            this.browser = browser;
        }

        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            Browser b = browser.get();
            if (b == null) return;
            try {
                Files.createDirectories(SCREENSHOTS);
                String name = context.getRequiredTestClass().getSimpleName() + "." + context.getRequiredTestMethod().getName();
                Files.write(SCREENSHOTS.resolve(name + ".png"), ((org.openqa.selenium.TakesScreenshot) b.driver).getScreenshotAs(OutputType.BYTES));
                Files.writeString(SCREENSHOTS.resolve(name + ".html"), b.driver.getPageSource(), StandardCharsets.UTF_8);
            } catch (IOException | RuntimeException e) {
                System.err.println("could not save the failure's screenshot: " + e);
            }
        }
    }
}
