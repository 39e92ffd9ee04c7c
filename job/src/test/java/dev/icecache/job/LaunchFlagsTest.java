package dev.icecache.job;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.icecache.model.JavaRuntime;
import org.junit.jupiter.api.Test;

/** The JVMs users start through the project run the vector kernels with the engine's JIT flag. */
class LaunchFlagsTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void shouldPassTheTrapLimitInTheLauncherTheFlinkConfigurationAndTheGpuCheck() throws IOException {
        for (String file : List.of("bin/icecache", "flink-conf/config.yaml", "gpu/check.sh")) {
            String text = Files.readString(ROOT.resolve(file));
            assertTrue(text.contains(JavaRuntime.TRAP_LIMIT_FLAG), file + " does not pass " + JavaRuntime.TRAP_LIMIT_FLAG);
        }
        String conf = Files.readAllLines(ROOT.resolve("flink-conf/config.yaml")).stream()
                .filter(l -> l.startsWith("env.java.opts.all:")).findFirst().orElseThrow();
        assertTrue(conf.contains(JavaRuntime.TRAP_LIMIT_FLAG), "env.java.opts.all: " + conf);
    }
}
