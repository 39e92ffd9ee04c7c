/**
 * Page-selection policies behind one interface, {@link dev.icecache.kvcache.select.PageSelector}:
 * Full, StreamingLLM, Quest, the oracle and IceCache (DCI-tree pages, with the layer-reuse variant).
 * A selector keeps its index, reports where tokens went (a move log) and writes page ids into a
 * caller's array; it never touches page storage.
 */
package dev.icecache.kvcache.select;
