package dev.icecache.job;

import java.io.PrintStream;

import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Prints each line to stdout as it is, so the output is JSON lines whatever the parallelism
 * (Flink's {@code PrintSink} prefixes "2&gt; " with the subtask index when parallelism &gt; 1).
 * Lines of one subtask keep their order; subtasks interleave whole lines.
 */
final class StdoutLineSink implements Sink<String> {

    private static final long serialVersionUID = 1L;

    @Override
    public SinkWriter<String> createWriter(WriterInitContext context) {
        return new SinkWriter<>() {
            @Override
            public void write(String line, Context ignored) {
                PrintStream out = System.out;
                // NOTE: println on one PrintStream is synchronized, so subtasks never split a line
                out.println(line);
            }

            @Override
            public void flush(boolean endOfInput) {
                System.out.flush();
            }

            @Override
            public void close() {
                System.out.flush();
            }
        };
    }
}
