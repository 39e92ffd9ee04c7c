package dev.icecache.bench.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ResultTableTest {

    @Test
    void shouldQuoteCsvCellsWithCommasAndQuotes() {
        ResultTable t = new ResultTable("name", "value").add("a,b", 1.5).add("say \"hi\"", 12);
        assertEquals("name,value\n\"a,b\",1.50\n\"say \"\"hi\"\"\",12\n", t.csv());
    }

    @Test
    void shouldRightAlignNumericColumnsInMarkdown() {
        ResultTable t = new ResultTable("policy", "ms").add("FULL", 123.4);
        assertEquals("| policy | ms |\n| --- | ---: |\n| FULL | 123 |\n", t.markdown());
    }

    @Test
    void shouldRightAlignPercentageColumnsButNotWords() {
        ResultTable t = new ResultTable("policy", "fetch").add("FULL", "12.5%").add("QUEST", "–");
        assertEquals("| policy | fetch |\n| --- | ---: |\n| FULL | 12.5% |\n| QUEST | – |\n", t.markdown());
        assertEquals("| a |\n| --- |\n| 5%x |\n", new ResultTable("a").add("5%x").markdown());
    }

    @Test
    void shouldFormatNumbersWithAboutThreeSignificantDigits() {
        assertEquals("12346", ResultTable.num(12345.6));
        assertEquals("45.7", ResultTable.num(45.66));
        assertEquals("4.57", ResultTable.num(4.566));
        assertEquals("0.457", ResultTable.num(0.4566));
        assertEquals("4.57e-03", ResultTable.num(0.004566));
        assertEquals("0", ResultTable.num(0));
    }

    @Test
    void shouldRejectARowOfTheWrongWidth() {
        ResultTable t = new ResultTable("a", "b");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.add(1));
        assertEquals("row has 1 cells; the table has 2 columns [a, b]", e.getMessage());
    }

    @Test
    void shouldEscapePipesInMarkdownCells() {
        assertEquals("| a |\n| --- |\n| x\\|y |\n", new ResultTable("a").add("x|y").markdown());
    }
}
