// Expected ids and decodings computed by Hugging Face's own tokenizers library (the Rust
// crate through its Node binding), for tests/test_tokenizer.c.
//
//   npm install tokenizers@0.23.2          (anywhere; then point NODE_PATH at its node_modules)
//   NODE_PATH=.../node_modules node tests/reference/tokenizer_cases.js components \
//       > tests/fixtures/tokenizer_components.jsonl
//   NODE_PATH=.../node_modules node tests/reference/tokenizer_cases.js random ../shared/tokenizers \
//       > tests/fixtures/tokenizer_random.jsonl
//
// "components": small hand-made tokenizer.json files, one feature each; every line holds the
// tokenizer (as a string), the texts with their ids and id lists with their decodings.
// "random": seeded random strings full of the things tokenizers get wrong (contractions,
// digit runs, whitespace runs, CR/LF, CJK, emoji, combining marks, literal special tokens),
// encoded by each real tokenizer in ../shared/tokenizers.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const {Tokenizer} = require('tokenizers');

function full(t) {
  const model = Object.assign({dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
                               fuse_unk: false, byte_fallback: false, ignore_merges: false}, t.model);
  return {version: '1.0', truncation: null, padding: null, added_tokens: t.added || [], normalizer: t.normalizer || null,
          pre_tokenizer: t.pre || null, post_processor: t.post || null, decoder: t.decoder || null, model};
}
const added = (id, content, o) => Object.assign({id, content, single_word: false, lstrip: false, rstrip: false,
                                                 normalized: false, special: true}, o || {});
const split = (pat, behavior, invert) => ({type: 'Split', pattern: {String: pat}, behavior, invert: !!invert});
const V1 = {a: 0, b: 1, c: 2, ab: 3, bc: 4, abc: 5};
const PRE_MODEL = {type: 'BPE', vocab: {a: 0, b: 1, '-': 2, 'a-': 3, '-b': 4, 'a-b': 5, '--': 6, '\u2581': 7, '\u2581a': 8, ' ': 9},
                   merges: ['a -', '- b', 'a- b', '- -', '\u2581 a']};
const ADD_MODEL = {type: 'BPE', vocab: {' ': 0, a: 1, b: 2, '<': 3, '>': 4, x: 5}, merges: []};
const NORM_MODEL = {type: 'BPE', vocab: {_: 0, a: 1, b: 2, '\u00e9': 3, e: 4, '\u0301': 5, ' ': 6}, merges: []};
const DEC_MODEL = {type: 'BPE', vocab: {'\u2581a': 0, b: 1, '<0xE2>': 2, '<0x82>': 3, '<0xAC>': 4, '<0xFF>': 5, xx: 6, '\u0120a': 7,
                                        '\u00c3': 8, '\u00a9': 9, '\u2581': 10, '\u2581\u2581b': 11}, merges: []};
// byte-level alphabet: every byte as its GPT-2 character, plus a few merges
function byteVocab() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n); n++; }
  const vocab = {};
  bs.forEach((b, i) => { vocab[String.fromCodePoint(cs[i])] = b; });
  const merges = [['\u0120', 'a'], ['h', 'e'], ['he', 'l'], ['hel', 'l'], ['hell', 'o'], ['\u0120', 'w'], ['\u0120w', 'o']];
  merges.forEach((m, i) => { vocab[m[0] + m[1]] = 256 + i; });
  return {vocab, merges: merges.map(m => m.join(' '))};
}
const BL = byteVocab();
const BL_MODEL = {type: 'BPE', vocab: BL.vocab, merges: BL.merges};
const TEXTS_BL = ['hello world', ' hello  wo', 'a\u00e9\u4e2d\ud83d\ude00 a', "it's 12345 hello\n\n  x", '', '   '];

const cases = [
  {name: 'bpe merge ranks', tok: {model: {type: 'BPE', vocab: V1, merges: ['b c', 'a b', 'a bc']}},
   enc: ['abc', 'abab', 'cab', '', 'bcbc', 'cba']},
  {name: 'bpe merges as pairs', tok: {model: {type: 'BPE', vocab: V1, merges: [['a', 'b'], ['b', 'c'], ['ab', 'c']]}},
   enc: ['abc', 'bcb', 'abcabc']},
  {name: 'bpe ignore_merges', tok: {model: {type: 'BPE', ignore_merges: true, vocab: {a: 0, b: 1, ab: 2, ba: 3, aba: 4}, merges: ['a b']}},
   enc: ['aba', 'abab', 'ba']},
  {name: 'bpe byte_fallback fuse_unk',
   tok: {model: {type: 'BPE', byte_fallback: true, unk_token: '<unk>', fuse_unk: true,
                 vocab: {'<unk>': 0, a: 1, '<0xC3>': 2, '<0xA9>': 3}, merges: []}},
   enc: ['a\u00e9', 'a\u00e8\u00e8a', '\u00e9\u00e8']},
  {name: 'bpe unk without fuse', tok: {model: {type: 'BPE', unk_token: '<unk>', vocab: {'<unk>': 0, a: 1}, merges: []}},
   enc: ['xxa', 'axx']},
  {name: 'bpe without type (GPT-2 layout)', tok: {model: {vocab: {a: 0, aa: 1}, merges: ['a a'], continuing_subword_prefix: '', end_of_word_suffix: ''}},
   enc: ['aa', 'aaa']},
  {name: 'added tokens longest and leftmost',
   tok: {model: ADD_MODEL, added: [added(10, '<ab>'), added(11, '<a>'), added(12, 'xx', {special: false})]},
   enc: ['a<ab>b', '<a><a', 'xxx', '<ab<ab>'], dec: [[[1, 6, 8, 2], false], [[1, 6, 8, 2], true]]},
  {name: 'added token ids as Hugging Face assigns them',
   tok: {model: {type: 'BPE', vocab: {a: 0, b: 5}, merges: []}, added: [added(9, 'X'), added(3, 'b'), added(1, 'Y')]},
   enc: ['XabY'], dec: [[[0, 2, 5, 3], false]]},
  {name: 'added tokens lstrip rstrip single_word',
   tok: {model: ADD_MODEL, added: [added(10, '<ab>', {lstrip: true}), added(11, '<a>', {rstrip: true}),
                                   added(12, 'ab', {special: false, single_word: true})]},
   enc: ['a  <ab> b', 'a <a>  b', 'ab xab ab', 'ab', 'xab']},
  {name: 'added tokens normalized',
   tok: {model: ADD_MODEL, normalizer: {type: 'Replace', pattern: {String: 'b'}, content: 'x'},
         added: [added(13, 'ax', {special: false, normalized: true}), added(14, 'bb', {special: false, normalized: false})]},
   enc: ['ab', 'bb', 'abb']},
  {name: 'normalizers Prepend Replace Sequence',
   tok: {model: NORM_MODEL, normalizer: {type: 'Sequence', normalizers: [{type: 'Prepend', prepend: '_'},
                                                                         {type: 'Replace', pattern: {String: 'b'}, content: '__'}]}},
   enc: ['ab', '', 'bab']},
  {name: 'normalizer Replace overlapping', tok: {model: NORM_MODEL, normalizer: {type: 'Replace', pattern: {String: 'aa'}, content: 'b'}},
   enc: ['aaa', 'aaaa']},
  {name: 'normalizer NFC', tok: {model: NORM_MODEL, normalizer: {type: 'NFC'}}, enc: ['e\u0301', 'a\u00e9e\u0301']},
  {name: 'no normalizer', tok: {model: NORM_MODEL}, enc: ['e\u0301']},
  {name: 'no pre-tokenizer', tok: {model: PRE_MODEL}, enc: ['a-b', 'a--b']},
  ...['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'].map(b => (
    {name: 'split ' + b, tok: {model: PRE_MODEL, pre: split('-', b)}, enc: ['a-b', 'a--b', '-a-', '']})),
  {name: 'split inverted', tok: {model: PRE_MODEL, pre: split('a', 'Isolated', true)}, enc: ['a-b', 'aa--b']},
  {name: 'metaspace always split',
   tok: {model: PRE_MODEL, pre: {type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true},
         decoder: {type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true}},
   enc: ['a a', ' a', 'a  a'], dec: [[[8, 8], false], [[7, 8], false], [[0, 8], false]]},
  {name: 'metaspace never', tok: {model: PRE_MODEL, pre: {type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'never', split: true}},
   enc: ['a a']},
  {name: 'metaspace first no split',
   tok: {model: PRE_MODEL, pre: {type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false},
         added: [added(20, '<x>')]},
   enc: ['a<x>a', '<x>a a']},
  {name: 'decoders Replace ByteFallback Fuse Strip',
   tok: {model: DEC_MODEL, decoder: {type: 'Sequence', decoders: [{type: 'Replace', pattern: {String: '\u2581'}, content: ' '},
                                                                 {type: 'ByteFallback'}, {type: 'Fuse'},
                                                                 {type: 'Strip', content: ' ', start: 1, stop: 0}]}},
   dec: [[[0, 1], false], [[1, 0], false], [[2, 3, 4], false], [[2, 3, 1], false], [[5], false], [[11, 0], false], [[10, 10, 1], false]]},
  {name: 'decoder Strip both ends', tok: {model: DEC_MODEL, decoder: {type: 'Strip', content: 'x', start: 1, stop: 1}},
   dec: [[[6, 1, 6], false]]},
  {name: 'decoder ByteLevel', tok: {model: DEC_MODEL, decoder: {type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true}},
   dec: [[[7, 8, 9], false], [[8], false], [[8, 7], false]]},
  {name: 'no decoder', tok: {model: DEC_MODEL}, dec: [[[1, 6, 1], false]]},
  // SentencePiece style, no pre-tokenizer: lvs.h cuts the text before U+2581 runs except
  // after a character that ends the left side of a merge across such a cut ('>' here)
  {name: 'metaspace runs with a merge across them',
   tok: {model: {type: 'BPE', byte_fallback: true,
                 vocab: {'\u2581': 0, a: 1, '>': 2, '<': 3, '/': 4, b: 5, '\u2581<': 6, '\u2581</': 7, '>\u2581</': 8, '\u2581a': 9,
                         'a>': 10, '\u2581\u2581': 11, '<0x78>': 12},
                 merges: ['\u2581 <', '\u2581< /', '> \u2581</', '\u2581 a', 'a >', '\u2581 \u2581']},
         normalizer: {type: 'Replace', pattern: {String: ' '}, content: '\u2581'}},
   enc: ['a> </b', 'a>  </b', ' a </b>', 'x </', 'a a a a> </ a', '  a   a']},
  {name: 'metaspace runs without merges across them',
   tok: {model: {type: 'BPE', vocab: {'\u2581': 0, a: 1, b: 2, '\u2581a': 3, '\u2581ab': 4, ab: 5, '\u2581\u2581': 6},
                 merges: ['\u2581 a', '\u2581a b', 'a b', '\u2581 \u2581']},
         normalizer: {type: 'Sequence', normalizers: [{type: 'Prepend', prepend: '\u2581'},
                                                      {type: 'Replace', pattern: {String: ' '}, content: '\u2581'}]}},
   enc: ['ab ab  ab', 'abab ab', ' ab', 'ab   b']},
  {name: 'template processing',
   tok: {model: {type: 'BPE', vocab: {a: 0, '<s>': 1, '</s>': 2}, merges: []}, added: [added(1, '<s>'), added(2, '</s>')],
         post: {type: 'TemplateProcessing', single: [{SpecialToken: {id: '<s>', type_id: 0}}, {Sequence: {id: 'A', type_id: 0}},
                                                     {SpecialToken: {id: '</s>', type_id: 0}}],
                pair: [{Sequence: {id: 'A', type_id: 0}}, {Sequence: {id: 'B', type_id: 1}}],
                special_tokens: {'<s>': {id: '<s>', ids: [1], tokens: ['<s>']}, '</s>': {id: '</s>', ids: [2], tokens: ['</s>']}}}},
   enc: [['aa', true], ['aa', false], ['', true], ['a<s>a', true]], dec: [[[1, 0, 2], true], [[1, 0, 2], false]]},
  ...[[true, true], [true, false], [false, true], [false, false]].map(([aps, rx]) => (
    {name: `bytelevel add_prefix_space=${aps} use_regex=${rx}`,
     tok: {model: BL_MODEL, pre: {type: 'ByteLevel', add_prefix_space: aps, trim_offsets: true, use_regex: rx},
           decoder: {type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true},
           post: {type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true}},
     enc: TEXTS_BL.map(t => [t, true])})),
];

async function components() {
  for (const c of cases) {
    const tj = full(c.tok);
    const tk = Tokenizer.fromString(JSON.stringify(tj));
    const enc = [], dec = [];
    for (const e of c.enc || []) {
      const [text, special] = Array.isArray(e) ? e : [e, false];
      enc.push({text, special, ids: (await tk.encode(text, null, {addSpecialTokens: special})).getIds()});
    }
    for (const [ids, skip] of c.dec || []) dec.push({ids, skip, text: await tk.decode(ids, skip)});
    process.stdout.write(JSON.stringify({name: c.name, tokenizer: JSON.stringify(tj), encode: enc, decode: dec}) + '\n');
  }
}

// xorshift32: reproducible strings without any library
let seed = 2606;
const rnd = n => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed % n; };
const POOL = [' ', ' ', ' ', '  ', '\n', '\n\n', '\r\n', '\t', ' \n ', "'s", "'S", "'ll", "'VE", "n't", "'", 'the', ' the', 'Hello', ' world',
  'HELLO', 'ing', 'tion', '123', '4567', '1234567', '3.14', '2026', '!', '?!', '...', ',', '"', '(', ')', '-', '--', '_', '$', '#', '@',
  '\u00e9', 'e\u0301', '\u00f1', '\u00fc', '\u00a0', '\u2581', '\u0120', '\u4e2d\u6587', '\u65e5\u672c\u8a9e', '\ud55c\uad6d\uc5b4', '\u0627\u0644\u0639\u0631\u0628\u064a\u0629',
  '\u0928\u092e\u0938\u094d\u0924\u0947', '\u0414\u0440\u0443\u0433', '\u03b1\u03b2\u03b3', '\ud83d\ude00', '\ud83e\udd99', '\ud83d\udc69\u200d\ud83d\udcbb', '\u200b', '\ufeff',
  '\u3000', '\u2028', '\u00ad', '\u0000', '\u007f', '\u0085', '\udbff\udffd', '<s>', '</s>', '<|eot_id|>', '<|begin_of_text|>', '<|im_start|>',
  '<|endoftext|>', '<start_of_turn>', '<end_of_turn>', '<bos>', '<unk>', '<pad>', ' <s>', '<0x41>', 'a', 'Z', 'x', 'q', '\u2163', '\u00b2', '\u0663'];
async function random(dir) {
  for (const name of ['gpt2', 'llama2', 'llama3', 'qwen3', 'gemma3']) {
    const path = `${dir}/${name}/tokenizer.json`;
    const json = fs.existsSync(path) ? fs.readFileSync(path, 'utf8') : zlib.gunzipSync(fs.readFileSync(path + '.gz')).toString('utf8');
    const tk = Tokenizer.fromString(json);
    for (let i = 0; i < 150; i++) {
      let text = '';
      const parts = 1 + rnd(24);
      for (let j = 0; j < parts; j++) text += POOL[rnd(POOL.length)];
      const special = rnd(2) === 1;
      const ids = (await tk.encode(text, null, {addSpecialTokens: special})).getIds();
      process.stdout.write(JSON.stringify({tok: name, text, special, ids, decoded: await tk.decode(ids, false)}) + '\n');
    }
  }
}

if (process.argv[2] === 'components') components();
else if (process.argv[2] === 'random') random(process.argv[3] || '../shared/tokenizers');
else { console.error('usage: node tokenizer_cases.js components | random SHARED_TOKENIZERS_DIR'); process.exit(2); }
