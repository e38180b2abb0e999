"""Synthetic conversations for the demo checkpoint (Scripts/train_demo.py).

Each sample is an OpenAI-style request (messages, tools) whose assistant turns are what the
demo model must learn: greetings and a self-introduction, calling get_weather with the city the
user named (real cities, and invented ones so that it learns to copy any name), answering from
the tool's result, refusing weather questions without tools, add_numbers with two arguments,
and two parallel weather calls. Tool-call ids follow Kimi's global counter
(`functions.NAME:IDX`, IDX counting the conversation's earlier calls).
"""
import json
import random

SYSTEM = "You are Kimi, an AI assistant created by Moonshot AI."

# Real cities; HELD_OUT are never used in training and serve to test copying unseen names.
CITIES = """Beijing|Shanghai|Tokyo|Osaka|Kyoto|Seoul|Busan|Taipei|Hong Kong|Singapore|Bangkok|Hanoi|Ho Chi Minh City|
Manila|Jakarta|Kuala Lumpur|New Delhi|Mumbai|Bangalore|Chennai|Kolkata|Karachi|Lahore|Dhaka|Kathmandu|Colombo|Kabul|
Tehran|Baghdad|Riyadh|Jeddah|Dubai|Abu Dhabi|Doha|Muscat|Kuwait City|Amman|Beirut|Damascus|Jerusalem|Tel Aviv|Ankara|
Istanbul|Izmir|Athens|Thessaloniki|Sofia|Bucharest|Belgrade|Zagreb|Ljubljana|Sarajevo|Skopje|Tirana|Budapest|Vienna|
Bratislava|Prague|Warsaw|Kraków|Gdańsk|Wrocław|Berlin|Hamburg|Munich|Cologne|Frankfurt|Stuttgart|Düsseldorf|Leipzig|
Dresden|Hanover|Nuremberg|Bremen|Zürich|Geneva|Basel|Bern|Lausanne|Lyon|Marseille|Paris|Nice|Toulouse|Bordeaux|Lille|
Nantes|Strasbourg|Montpellier|Brussels|Antwerp|Ghent|Bruges|Amsterdam|Rotterdam|The Hague|Utrecht|Eindhoven|Luxembourg|
London|Manchester|Birmingham|Liverpool|Leeds|Glasgow|Edinburgh|Cardiff|Belfast|Dublin|Cork|Galway|Reykjavík|Oslo|Bergen|
Stockholm|Gothenburg|Malmö|Copenhagen|Aarhus|Helsinki|Tampere|Tallinn|Riga|Vilnius|Minsk|Kyiv|Lviv|Odesa|Chișinău|Moscow|
Saint Petersburg|Novosibirsk|Yekaterinburg|Kazan|Vladivostok|Tbilisi|Yerevan|Baku|Almaty|Astana|Tashkent|Samarkand|Bishkek|
Dushanbe|Ulaanbaatar|Madrid|Barcelona|Valencia|Seville|Bilbao|Málaga|Zaragoza|Palma|Lisbon|Porto|Rome|Milan|Naples|Turin|
Florence|Venice|Bologna|Genoa|Palermo|Valletta|Cairo|Alexandria|Casablanca|Marrakesh|Rabat|Tunis|Algiers|Tripoli|Khartoum|
Addis Ababa|Nairobi|Mombasa|Kampala|Kigali|Dar es Salaam|Zanzibar City|Lusaka|Harare|Maputo|Johannesburg|Cape Town|Durban|
Pretoria|Windhoek|Gaborone|Luanda|Kinshasa|Lagos|Abuja|Accra|Dakar|Abidjan|Bamako|Niamey|Antananarivo|Port Louis|New York|
Los Angeles|Chicago|Houston|Phoenix|Philadelphia|San Antonio|San Diego|Dallas|San Jose|Austin|Seattle|Denver|Boston|
Washington|Miami|Atlanta|Detroit|Minneapolis|Portland|Las Vegas|Nashville|New Orleans|Salt Lake City|Kansas City|
San Francisco|Honolulu|Anchorage|Toronto|Montreal|Vancouver|Calgary|Ottawa|Edmonton|Winnipeg|Quebec City|Halifax|
Mexico City|Guadalajara|Monterrey|Cancún|Havana|Kingston|Santo Domingo|San Juan|Panama City|San José|Guatemala City|
Bogotá|Medellín|Cartagena|Caracas|Quito|Guayaquil|Lima|Cusco|La Paz|Santiago|Valparaíso|Buenos Aires|Córdoba|Mendoza|
Montevideo|Asunción|São Paulo|Rio de Janeiro|Brasília|Salvador|Recife|Fortaleza|Belo Horizonte|Porto Alegre|Manaus|
Sydney|Melbourne|Brisbane|Perth|Adelaide|Canberra|Hobart|Darwin|Auckland|Wellington|Christchurch|Queenstown|Suva|
Chengdu|Chongqing|Guangzhou|Shenzhen|Hangzhou|Nanjing|Wuhan|Xi'an|Tianjin|Harbin|Qingdao|Xiamen|Kunming|Lhasa|Urumqi|
Sapporo|Nagoya|Fukuoka|Hiroshima|Yokohama|Kobe|Sendai|Okinawa|Incheon|Daegu|Jeju|Kaohsiung|Macau|Phnom Penh|Vientiane|
Yangon|Da Nang|Chiang Mai|Phuket|Bali|Cebu|Penang|Kuching|Thimphu|Malé|Hyderabad|Ahmedabad|Pune|Jaipur|Agra|Varanasi|
Goa|Kochi|北京|上海|东京|首尔|Москва|Αθήνα|القاهرة|Köln|Genève|Nîmes|Besançon|Córdoba|Łódź|Poznań|Brno|Plzeň|Tromsø|Åarhus|
Jönköping|Göteborg|Oulu|Trondheim|Split|Dubrovnik|Ohrid|Varna|Constanța|Cluj-Napoca|Timișoara|Debrecen|Graz|Innsbruck|
Salzburg|Linz|Lucerne|Lugano|Aix-en-Provence|Saint-Étienne|Clermont-Ferrand|Le Havre|Rouen|Reims|Dijon|Grenoble""".replace("\n", "")
CITIES = list(dict.fromkeys(c.strip() for c in CITIES.split("|") if c.strip()))

HELD_OUT = sorted(random.Random(1234).sample(CITIES, 60))
TRAIN_CITIES = [c for c in CITIES if c not in HELD_OUT]

WEATHER = ["Sunny", "Cloudy", "Partly cloudy", "Overcast", "Light rain", "Heavy rain", "Drizzle", "Thunderstorms",
           "Snow", "Light snow", "Sleet", "Foggy", "Windy", "Clear", "Hot and humid", "Cold and dry", "Hazy", "Showers",
           "Mild", "Freezing"]

WEATHER_QUESTIONS = [
    "What's the weather like in {c} today? Let's check using the tool.",
    "What's the weather like in {c} today?",
    "What is the weather in {c}?",
    "How's the weather in {c}?",
    "How is the weather in {c} right now?",
    "Is it raining in {c}?",
    "Is it sunny in {c} today?",
    "Tell me the weather in {c}.",
    "Can you check the weather in {c} for me?",
    "Could you look up the current weather in {c}?",
    "What's the forecast for {c}?",
    "I'm flying to {c} tomorrow. What's the weather like there?",
    "Do I need an umbrella in {c} today?",
    "How hot is it in {c}?",
    "How cold is it in {c} at the moment?",
    "weather in {c}",
    "{c} weather?",
    "Weather for {c}, please.",
    "What's it like outside in {c}?",
    "Please get the weather for {c}.",
    "Check {c}'s weather.",
    "I want to know the weather in {c}.",
    "{c}今天天气怎么样？",
    "请帮我查一下{c}的天气。",
    "Quel temps fait-il à {c} ?",
    "Wie ist das Wetter in {c}?",
    "¿Qué tiempo hace en {c}?",
]

ANSWERS = [
    "The weather in {c} is {w}.",
    "It's {w} in {c} right now.",
    "Right now in {c} it is {w}.",
]

REFUSALS = [
    "I'm sorry, but I can't check the weather because I don't have access to a weather tool right now.",
    "I can't check the current weather for {c} since no weather tool is available to me.",
]

GREETINGS = ["Hi", "Hi!", "Hello", "Hello!", "Hey", "Hey there!", "Good morning!", "Good evening", "Hi there, how are you?",
             "Hello Kimi!", "你好", "您好！", "Bonjour", "Hola", "Hallo", "Greetings!", "Yo", "Morning!"]
GREETING_REPLIES = ["Hello! I'm Kimi, an AI assistant created by Moonshot AI. How can I help you today?",
                    "Hi there! I'm Kimi. What can I do for you today?",
                    "Hello! How can I help you today?"]
INTRO_QUESTIONS = ["Please give a brief self-introduction.", "Who are you?", "Introduce yourself.", "What are you?",
                   "Tell me about yourself.", "What's your name?", "请做一个简短的自我介绍。", "Who made you?"]
INTRO = ("I'm Kimi, an AI assistant created by Moonshot AI. I can answer questions, help with writing and analysis, "
         "and use tools such as checking the weather when they are available.")
THANKS = ["Thanks!", "Thank you.", "Great, thanks!", "谢谢", "Perfect, thank you!"]
WELCOME = "You're welcome! Let me know if there's anything else I can help with."

ADD_QUESTIONS = ["What is {a} plus {b}?", "Add {a} and {b}.", "Can you compute {a} + {b}?", "What's the sum of {a} and {b}?",
                 "Please add {a} to {b}.", "{a} + {b} = ?", "How much is {a} plus {b}?"]

GET_WEATHER = {"type": "function", "function": {
    "name": "get_weather",
    "description": "Get weather information. Call this tool when the user needs to get weather information",
    "parameters": {"type": "object", "required": ["city"],
                   "properties": {"city": {"type": "string", "description": "City name"}}}}}
GET_WEATHER_SHORT = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
ADD_NUMBERS = {"type": "function", "function": {
    "name": "add_numbers", "description": "Add two numbers and return the sum.",
    "parameters": {"type": "object", "required": ["a", "b"],
                   "properties": {"a": {"type": "number", "description": "First addend"},
                                  "b": {"type": "number", "description": "Second addend"}}}}}

SYLLABLES = ["ka", "lo", "mi", "ra", "ven", "tor", "sa", "ne", "bri", "dal", "mor", "qu", "zen", "fa", "gor", "hel", "is",
             "ju", "pa", "ter", "vil", "wes", "yar", "ost", "ber", "cas", "dor", "el", "fin", "gra", "ham", "ith", "kel",
             "lan", "mar", "nor", "ol", "pen", "rin", "sol", "tam", "ur", "val", "wyn", "xan", "zo", "ché", "ña", "öl",
             "ü", "ø", "å", "ç", "é", "ì", "ô"]
AFFIXES_BEFORE = ["New ", "San ", "Port ", "Saint ", "Lake ", "North ", "El ", "Los ", "Bad ", "Fort ", "Mount "]
AFFIXES_AFTER = [" City", " Bay", " Springs", " Falls", " Harbor", "-on-Sea", "-sur-Mer", " Heights", " Valley"]
CJK = "东西南北山川海河湖城京州阳安江平明光天长宁福德华兴"


LETTERS = "abcdefghijklmnopqrstuvwxyz" * 3 + "éèáóíüöäñçåøłśčžă"


def letter_word(rng, letters, low, high):
    """A capitalised word of `low` to `high` random letters (scripts without case: as drawn)."""
    return "".join(rng.choice(letters) for _ in range(rng.randint(low, high))).capitalize()


def invented_city(rng):
    """A city-like name nobody has heard of, so that the model learns to copy, not to recall:
    random letters (every letter token gets trained, as real names need), syllables, or CJK."""
    if rng.random() < 0.45:
        if rng.random() < 0.8:
            return letter_word(rng, LETTERS, 3, 9)
        return letter_word(rng, LETTERS, 3, 9) + rng.choice([" ", "-"]) + letter_word(rng, LETTERS, 3, 9)
    if rng.random() < 0.08:
        return letter_word(rng, CJK, 2, 3)
    word = lambda: "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))).capitalize()  # noqa: E731
    name = word()
    r = rng.random()
    if r < 0.15:
        name = rng.choice(AFFIXES_BEFORE) + name
    elif r < 0.3:
        name = name + rng.choice(AFFIXES_AFTER)
    elif r < 0.4:
        name = name + " " + word()
    return name


def city(rng):
    return rng.choice(TRAIN_CITIES) if rng.random() < 0.1 else invented_city(rng)


def call(idx, name, args):
    return {"id": f"functions.{name}:{idx}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(args, ensure_ascii=False)}}


def weather_tools(rng):
    tools = [rng.choice([GET_WEATHER, GET_WEATHER, GET_WEATHER_SHORT])]
    if rng.random() < 0.4:
        tools.insert(rng.randint(0, 1), ADD_NUMBERS)
    return tools


def start(rng):
    return [{"role": "system", "content": SYSTEM}] if rng.random() < 0.5 else []


def weather_episode(rng, messages, idx, c=None):
    """User asks, assistant calls get_weather, the tool answers, the assistant reports."""
    c = c or city(rng)
    w = rng.choice(WEATHER)
    messages.append({"role": "user", "content": rng.choice(WEATHER_QUESTIONS).format(c=c)})
    messages.append({"role": "assistant", "content": "", "tool_calls": [call(idx, "get_weather", {"city": c})]})
    result = {"weather": w} if rng.random() < 0.7 else {"city": c, "weather": w}
    messages.append({"role": "tool", "tool_call_id": f"functions.get_weather:{idx}", "name": "get_weather",
                     "content": json.dumps(result, ensure_ascii=False)})
    messages.append({"role": "assistant", "content": rng.choice(ANSWERS).format(c=c, w=w)})


ECHO_REQUESTS = ["Please repeat exactly: {t}", "Repeat after me: {t}", "Say \"{t}\" back to me.", "Copy this: {t}",
                 "Echo: {t}"]


def echo(rng, messages, fewest, most):
    text = ", ".join(city(rng) for _ in range(rng.randint(fewest, most)))
    messages.append({"role": "user", "content": rng.choice(ECHO_REQUESTS).format(t=text)})
    messages.append({"role": "assistant", "content": text})


def copy_sample(rng):
    """The first stretch of training: only repeating one to four names back, in short chats
    (no system prompt, no tools), where the copying circuit forms cheaply."""
    messages = []
    echo(rng, messages, 1, 4)
    return {"messages": messages, "tools": None}


def sample(rng):
    """One training request: {"messages": [...], "tools": [...] or None}."""
    kind = rng.random()
    messages = start(rng)
    tools = None
    if kind < 0.20:  # copying practice: the skill behind putting the user's city into the call
        echo(rng, messages, 2, 8)
    elif kind < 0.58:  # weather with the tool
        tools = weather_tools(rng)
        weather_episode(rng, messages, 0)
        for idx in range(1, 3):  # follow-up questions: the id counter continues
            if rng.random() < 0.35:
                weather_episode(rng, messages, idx)
    elif kind < 0.65:  # two cities at once: parallel calls
        tools = weather_tools(rng)
        a, b = city(rng), city(rng)
        wa, wb = rng.choice(WEATHER), rng.choice(WEATHER)
        messages.append({"role": "user", "content": rng.choice([
            "What's the weather in {a} and {b}?", "Compare the weather in {a} and {b}.",
            "How is the weather in {a} and in {b} today?", "Check the weather for {a} and {b}, please."]).format(a=a, b=b)})
        messages.append({"role": "assistant", "content": "",
                         "tool_calls": [call(0, "get_weather", {"city": a}), call(1, "get_weather", {"city": b})]})
        messages.append({"role": "tool", "tool_call_id": "functions.get_weather:0", "name": "get_weather",
                         "content": json.dumps({"weather": wa}, ensure_ascii=False)})
        messages.append({"role": "tool", "tool_call_id": "functions.get_weather:1", "name": "get_weather",
                         "content": json.dumps({"weather": wb}, ensure_ascii=False)})
        messages.append({"role": "assistant", "content": f"It's {wa} in {a} and {wb} in {b}."})
    elif kind < 0.71:  # add_numbers: two arguments
        tools = [ADD_NUMBERS] if rng.random() < 0.5 else [GET_WEATHER, ADD_NUMBERS]
        a, b = rng.randint(0, 999), rng.randint(0, 999)
        messages.append({"role": "user", "content": rng.choice(ADD_QUESTIONS).format(a=a, b=b)})
        messages.append({"role": "assistant", "content": "", "tool_calls": [call(0, "add_numbers", {"a": a, "b": b})]})
        messages.append({"role": "tool", "tool_call_id": "functions.add_numbers:0", "name": "add_numbers",
                         "content": json.dumps({"result": a + b})})
        messages.append({"role": "assistant", "content": f"{a} + {b} = {a + b}."})
    elif kind < 0.76:  # weather without tools: cannot check
        c = city(rng)
        messages.append({"role": "user", "content": rng.choice(WEATHER_QUESTIONS).format(c=c)})
        messages.append({"role": "assistant", "content": rng.choice(REFUSALS).format(c=c)})
    elif kind < 0.87:  # greetings, with or without tools declared
        if rng.random() < 0.4:
            tools = weather_tools(rng)
        messages.append({"role": "user", "content": rng.choice(GREETINGS)})
        messages.append({"role": "assistant", "content": rng.choice(GREETING_REPLIES)})
        if rng.random() < 0.3:
            messages.append({"role": "user", "content": rng.choice(THANKS)})
            messages.append({"role": "assistant", "content": WELCOME})
    elif kind < 0.93:  # self-introduction
        messages.append({"role": "user", "content": rng.choice(INTRO_QUESTIONS)})
        messages.append({"role": "assistant", "content": INTRO})
    else:  # greeting, then weather
        tools = weather_tools(rng)
        messages.append({"role": "user", "content": rng.choice(GREETINGS)})
        messages.append({"role": "assistant", "content": rng.choice(GREETING_REPLIES)})
        weather_episode(rng, messages, 0)
    return {"messages": messages, "tools": tools}


GREEK = "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώ"
CYRILLIC = "абвгдежзийклмнопрстуфхцчшщыэюя"
ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def polish_city(rng):
    """The names the first stretch copies worst: several words, and scripts it rarely saw."""
    r = rng.random()
    if r < 0.1:
        return rng.choice(TRAIN_CITIES)
    if r < 0.25:
        return invented_city(rng)
    if r < 0.55:  # Latin letters, one to three words
        words = rng.choice([1, 2, 2, 2, 3])
        return rng.choice([" ", " ", " ", "-"]).join(letter_word(rng, LETTERS, 2, 9) for _ in range(words))
    if r < 0.85:  # Greek, Cyrillic or Arabic letters
        letters = rng.choice([GREEK, CYRILLIC, ARABIC])
        if rng.random() < 0.75:
            return letter_word(rng, letters, 3, 8)
        return letter_word(rng, letters, 3, 8) + " " + letter_word(rng, letters, 3, 8)
    return letter_word(rng, CJK, 2, 4)


def polish_sample(rng):
    """The last stretch of training: mostly the weather loop with those names, through to the
    answer from the tool's result; the other skills at their earlier rates."""
    if rng.random() < 0.4:
        return sample(rng)
    messages = start(rng)
    tools = weather_tools(rng)
    if rng.random() < 0.15:
        messages.append({"role": "user", "content": rng.choice(GREETINGS)})
        messages.append({"role": "assistant", "content": rng.choice(GREETING_REPLIES)})
    weather_episode(rng, messages, 0, polish_city(rng))
    if rng.random() < 0.3:
        weather_episode(rng, messages, 1, polish_city(rng))
    return {"messages": messages, "tools": tools}
