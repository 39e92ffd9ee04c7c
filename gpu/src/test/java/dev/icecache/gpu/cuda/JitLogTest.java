package dev.icecache.gpu.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** The driver's JIT error log, as the one-line suffix a rejected PTX's error carries. */
class JitLogTest {

    @Test
    void shouldKeepTheLogUpToItsNulOnOneLine() {
        byte[] buffer = new byte[64];
        byte[] text = "ptxas fatal   : Unsupported .version 9.0\nsecond line\n".getBytes(StandardCharsets.UTF_8);
        System.arraycopy(text, 0, buffer, 0, text.length);
        assertEquals(" (JIT log: ptxas fatal   : Unsupported .version 9.0; second line)", CudaContext.jitLog(buffer));
    }

    @Test
    void shouldSayNothingWhenTheDriverWroteNoLog() {
        assertEquals("", CudaContext.jitLog(new byte[16]));
        assertEquals("", CudaContext.jitLog(null));
        byte[] full = new byte[8];
        Arrays.fill(full, (byte) 'x');
        assertEquals(" (JIT log: xxxxxxxx)", CudaContext.jitLog(full));
    }
}
