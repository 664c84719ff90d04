from polyir.data.evalsets.sentences import sentence_spans, span_containing, split_sentences


def test_english_abbreviations_and_spans_cover_text():
    text = "Dr. Smith went to Washington. He arrived at 5 p.m. and left! Why?"
    spans = sentence_spans(text, "en")
    assert [text[a:b].strip() for a, b in spans] == ["Dr. Smith went to Washington.", "He arrived at 5 p.m. and left!",
                                                      "Why?"]
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))


def test_cjk_full_width_terminators():
    assert split_sentences("黑豹队的防守只丢了308分。职业碗防守截锋领先全队！他贡献了多少？是的。", "zh") == [
        "黑豹队的防守只丢了308分。", "职业碗防守截锋领先全队！", "他贡献了多少？", "是的。"]
    assert split_sentences("梅雨は気象現象である。雨季の一種である。", "ja") == ["梅雨は気象現象である。", "雨季の一種である。"]
    assert split_sentences("यह पहला वाक्य है। यह दूसरा है।", "hi") == ["यह पहला वाक्य है।", "यह दूसरा है।"]


def test_thai_is_not_split_as_documented():
    text = "กองป้องกันเสียเพียง 308 คะแนน และอยู่ในอันดับที่หก ในขณะเดียวกันก็นำ NFL"
    assert split_sentences(text, "th") == [text]


def test_span_containing_uses_last_start_at_or_before_offset():
    spans = [(0, 10), (12, 20), (20, 30)]
    assert [span_containing(spans, o) for o in (0, 9, 10, 11, 12, 19, 20, 29, 99)] == [0, 0, 0, 0, 1, 1, 2, 2, 2]


def test_empty_text_has_one_span():
    assert sentence_spans("", "en") == [(0, 0)]
