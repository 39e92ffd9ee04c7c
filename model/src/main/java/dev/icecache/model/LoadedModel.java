package dev.icecache.model;

import dev.icecache.model.tokenizer.Vocabulary;

/**
 * What a model file reader produces: configuration, weights, and the vocabulary when the file
 * (or its tokenizer file) has one.
 *
 * @param config hyper-parameters, context length already overridden where asked
 * @param weights mapped weights
 * @param vocabulary the vocabulary, or null when none was found
 * @param chatTemplate the Jinja chat template (GGUF {@code tokenizer.chat_template}), or null
 */
record LoadedModel(ModelConfig config, LlamaWeights weights, Vocabulary vocabulary, String chatTemplate) {

    /** A model without a chat template. */
    LoadedModel(ModelConfig config, LlamaWeights weights, Vocabulary vocabulary) {
        this(config, weights, vocabulary, null);
    }
}
