package dev.icecache.model;

import dev.icecache.model.tokenizer.Vocabulary;

/**
 * What a model file reader produces: configuration, weights, and the vocabulary when the file
 * (or its tokenizer file) has one.
 *
 * @param config hyper-parameters, context length already overridden where asked
 * @param weights mapped weights
 * @param vocabulary the vocabulary, or null when none was found
 */
record LoadedModel(ModelConfig config, LlamaWeights weights, Vocabulary vocabulary) {
}
