#!/usr/bin/env python3
"""Writes the demo checkpoint's held-out evaluation, Tests/Fixtures/demo/held_out.json.

    python3 Scripts/make_demo_eval.py

Written apart from the demo's training data (Scripts/demo_data.py) and never read by it except
to check that the two share nothing: real cities the training never names, question wordings it
never uses (in the languages the model card's audience writes), tool-result shapes and weather
words it never returns. Each case pairs a city with a question and a tool result; the tests ask
the demo each question, expect get_weather with exactly that city, then hand it the tool result
and expect an answer that names the city and restates the weather word for word.
"""
import json
import os
import random

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "Fixtures", "demo", "held_out.json")

# Real cities, chosen to be absent from the training list: several words, hyphens, apostrophes,
# diacritics, and Cyrillic, Greek, Arabic, CJK and Hangul names.
CITIES = """Ouagadougou|Nouakchott|Freetown|Monrovia|Conakry|Lomé|Cotonou|Yaoundé|Douala|Libreville|Brazzaville|Bangui|
N'Djamena|Juba|Asmara|Mogadishu|Lilongwe|Blantyre|Maseru|Nizhny Novgorod|Rostov-on-Don|Samara|Omsk|Irkutsk|Murmansk|
Kaliningrad|Gdynia|Szczecin|Katowice|Ostrava|Košice|Pécs|Novi Sad|Podgorica|Patras|Heraklion|Nicosia|Limassol|Aleppo|
Erbil|Basra|Isfahan|Shiraz|Mashhad|Tabriz|Herat|Peshawar|Multan|Chittagong|Mandalay|Luang Prabang|Siem Reap|Haiphong|
Davao|Surabaya|Yogyakarta|Bandung|Makassar|Johor Bahru|Kota Kinabalu|Tainan|Gwangju|Ulsan|Kanazawa|Kagoshima|Nagasaki|
Hakodate|Dalian|Shenyang|Changsha|Nanning|Lanzhou|Kashgar|Albuquerque|Tucson|Sacramento|Pittsburgh|Cincinnati|Milwaukee|
Baton Rouge|Des Moines|Santa Fe|St. Louis|Fort Worth|Barranquilla|Arequipa|Cochabamba|Rosario|Curitiba|Florianópolis|
Belém|Puebla|Tijuana|Mérida|Coimbra|Granada|Santander|Trieste|Verona|Aberdeen|Inverness|Bristol|Sheffield|Freiburg im Breisgau|
Kiel|Mainz|Aalborg|Uppsala|Bodø|Rovaniemi|Tartu|Kaunas|Saskatoon|Yellowknife|Whitehorse|Rotorua|Dunedin|
Nouméa|Apia|深圳|成都|大阪|札幌|부산|Санкт-Петербург|Новосибирск|Θεσσαλονίκη|بيروت|الرياض""".replace("\n", "")
CITIES = [c for c in CITIES.split("|") if c]

# Question wordings: other verbs, other orders, the city before a comma, a dash, another word
# or the end of the sentence, and trailing instructions the training never uses.
QUESTIONS = [
    "Any idea what the sky is doing over {c} this afternoon? Go ahead and use the tool.",
    "Planning a picnic near {c} tomorrow, is the weather going to cooperate? Look it up please.",
    "Before I leave for {c}, can you tell me the conditions there? Please verify with the tool.",
    "{c} forecast please, I'm deciding on shoes.",
    "Weather update for {c}? Use the function.",
    "Is it t-shirt weather in {c} today?",
    "What should I expect from the weather in {c} this evening?",
    "Pull up the weather for {c}, thanks.",
    "Can I go for a run in {c} right now or is it pouring?",
    "tell me how the weather is in {c} rn",
    "I land in {c} at noon. Will I need a coat? Consult the tool.",
    "Need the weather in {c} ASAP.",
    "How are conditions looking in {c}? Fetch it with the tool.",
    "Give me {c}'s current weather, please and thank you.",
    "What's the weather situation in {c}? Verify using the tool.",
    "Is the weather in {c} good for sightseeing? Run the weather tool.",
    "My sister is in {c} — is she getting rain?",
    "Report the current weather of {c}.",
    "{c}: sunny or not? Go check.",
    "So what's {c} like weather-wise at this hour?",
    "{c}这会儿天气咋样？用工具看一下。",
    "明天去{c}出差，那边天气好吗？",
    "麻烦查查{c}现在的天气情况。",
    "Il fait beau à {c} en ce moment ?",
    "Brauche ich heute in {c} einen Regenschirm?",
    "¿Hace frío en {c} ahora mismo?",
    "{c}は今雨が降っていますか？",
    "Нужен ли зонт сегодня в {c}?",
    "{c} 지금 비 와?",
    "Que tempo está fazendo em {c} agora?",
]

# Tool results: shapes the training never returns ({w}: the weather, {n}: a number).
TOOL_RESULTS = [
    '{{"conditions": "{w}", "temperature_c": {n}}}',
    '{{"summary": "{w}"}}',
    '{{"status": "ok", "data": {{"weather": "{w}"}}}}',
    '"Current weather: {w}"',
    '{{"sky": "{w}", "wind_kph": {n}}}',
    '{{"location": "{c}", "now": "{w}", "feels_like": {n}}}',
]

WEATHERS = ["Blustery", "Humid", "Scattered showers", "Freezing fog", "Mostly sunny", "Light drizzle", "Sleet and wind",
            "Overcast with light rain", "Bright and breezy", "Muggy", "Chilly", "Snow flurries", "Clear skies", "Hail",
            "Dust storm", "Misty", "Patchy rain", "Heat wave", "Gusty winds", "Icy"]


def main():
    rng = random.Random(2026)
    cases = []
    for i, city in enumerate(CITIES):
        for question in rng.sample(QUESTIONS, 1 if i % 2 else 2):  # 1.5 wordings per city on average
            weather = rng.choice(WEATHERS)
            result = rng.choice(TOOL_RESULTS).format(c=city, w=weather, n=rng.randint(-15, 38))
            cases.append({"city": city, "question": question.format(c=city), "tool_result": result, "weather": weather})
    data = {"about": "Held-out evaluation of the demo checkpoint; written by Scripts/make_demo_eval.py, never used in training.",
            "cities": CITIES, "questions": QUESTIONS, "tool_results": TOOL_RESULTS, "weathers": WEATHERS, "cases": cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(cases)} cases, {len(CITIES)} cities, {len(QUESTIONS)} wordings -> {OUT}")


if __name__ == "__main__":
    main()
