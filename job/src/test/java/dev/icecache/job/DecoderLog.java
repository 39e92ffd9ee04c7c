package dev.icecache.job;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.icecache.operators.decode.IceCacheDecoder;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/** Captures the decoder's INFO lines (document resumed / finished) in this JVM, as the logs show them. */
final class DecoderLog extends AbstractAppender implements AutoCloseable {

    final List<String> lines = new CopyOnWriteArrayList<>();

    private DecoderLog() {
        super("icecache-decoder-capture", null, null, true, Property.EMPTY_ARRAY);
    }

    static DecoderLog attach() {
        DecoderLog log = new DecoderLog();
        log.start();
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        LoggerConfig logger = new LoggerConfig(IceCacheDecoder.class.getName(), Level.INFO, true);
        logger.addAppender(log, Level.INFO, null);
        config.addLogger(IceCacheDecoder.class.getName(), logger);
        ctx.updateLoggers();
        return log;
    }

    private volatile String awaited = "";
    private final java.util.concurrent.CountDownLatch seen = new java.util.concurrent.CountDownLatch(1);

    @Override
    public void append(LogEvent event) {
        String line = event.getMessage().getFormattedMessage();
        lines.add(line);
        if (!awaited.isEmpty() && line.startsWith(awaited)) {
            seen.countDown();
        }
    }

    /** Waits until a line starting with {@code prefix} is logged (only one wait per capture); false on timeout. */
    boolean awaitLine(String prefix, java.time.Duration timeout) throws InterruptedException {
        awaited = prefix;
        if (lines.stream().anyMatch(l -> l.startsWith(prefix))) {
            return true;
        }
        return seen.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    long count(String fragment) {
        return lines.stream().filter(l -> l.contains(fragment)).count();
    }

    @Override
    public void close() {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        ctx.getConfiguration().removeLogger(IceCacheDecoder.class.getName());
        ctx.updateLoggers();
        stop();
    }
}
