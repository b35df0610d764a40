"""Names for bench/scale_seed.py's households: Ukrainian (Latin as in the passport, and
Cyrillic), Syrian and Afghan (Latin and Arabic script), and third countries'."""

UA_STEMS = [("Shevch", "Шевч"), ("Koval", "Ковал"), ("Bondar", "Бондар"), ("Tkach", "Ткач"),
             ("Kravch", "Кравч"), ("Lys", "Лис"), ("March", "Марч"), ("Rud", "Руд"),
             ("Sav", "Сав"), ("Petr", "Петр"), ("Pavl", "Павл"), ("Kuzm", "Кузьм"),
             ("Ivan", "Іван"), ("Hryts", "Гриц"), ("Levch", "Левч"), ("Honchar", "Гончар"),
             ("Klym", "Клим"), ("Karp", "Карп"), ("Vasyl", "Васил"), ("Zinch", "Зінч"),
             ("Ponomar", "Пономар"), ("Moroz", "Мороз"), ("Melnych", "Мельнич"),
             ("Oliin", "Олійн"), ("Boich", "Бойч"), ("Hnat", "Гнат"), ("Dmytr", "Дмитр"),
             ("Yarem", "Ярем"), ("Fedor", "Федор"), ("Stepan", "Степан"), ("Tymosh", "Тимош"),
             ("Ostap", "Остап"), ("Hutsal", "Гуцал"), ("Semen", "Семен"), ("Yurch", "Юрч")]
UA_ENDS = [("enko", "енко"), ("uk", "ук"), ("yshyn", "ишин"), ("ak", "ак"), ("ets", "ець")]
UA_GIVEN = {
    "female": [("Olena", "Олена"), ("Sofiia", "Софія"), ("Iryna", "Ірина"), ("Oksana", "Оксана"),
               ("Nataliia", "Наталія"), ("Tetiana", "Тетяна"), ("Yuliia", "Юлія"),
               ("Anastasiia", "Анастасія"), ("Mariia", "Марія"), ("Viktoriia", "Вікторія"),
               ("Halyna", "Галина"), ("Daryna", "Дарина"), ("Khrystyna", "Христина")],
    "male": [("Taras", "Тарас"), ("Andrii", "Андрій"), ("Oleksandr", "Олександр"),
             ("Dmytro", "Дмитро"), ("Serhii", "Сергій"), ("Yurii", "Юрій"), ("Maksym", "Максим"),
             ("Mykola", "Микола"), ("Bohdan", "Богдан"), ("Artem", "Артем"), ("Ihor", "Ігор"),
             ("Vladyslav", "Владислав"), ("Oleh", "Олег")]}
AR_FAMILY = [("Al-Hassan", "الحسن"), ("Al-Ahmad", "الأحمد"), ("Haddad", "حداد"),
              ("Khalil", "خليل"), ("Ibrahim", "إبراهيم"), ("Mansour", "منصور"), ("Nasser", "ناصر"),
              ("Saleh", "صالح"), ("Hamdan", "حمدان"), ("Othman", "عثمان"), ("Darwish", "درويش"),
              ("Suleiman", "سليمان"), ("Ahmadi", "أحمدي"), ("Rahimi", "رحيمي"), ("Karimi", "كريمي"),
              ("Hosseini", "حسيني"), ("Noori", "نوري"), ("Sultani", "سلطاني"),
              ("Haidari", "حيدري"), ("Popal", "پوپل"), ("Safi", "صافي"), ("Wardak", "وردک")]
AR_GIVEN = {
    "female": [("Fatima", "فاطمة"), ("Aisha", "عائشة"), ("Lina", "لينا"), ("Mariam", "مريم"),
               ("Zainab", "زينب"), ("Noor", "نور"), ("Sara", "سارة"), ("Huda", "هدى"),
               ("Rana", "رنا"), ("Yasmin", "ياسمين")],
    "male": [("Mohammed Ali", "محمد علي"), ("Omar", "عمر"), ("Ali", "علي"), ("Ahmad", "أحمد"),
             ("Yusuf", "يوسف"), ("Hassan", "حسن"), ("Khaled", "خالد"), ("Mustafa", "مصطفى"),
             ("Karim", "كريم"), ("Bilal", "بلال")]}
OTHER = {"NG": (["Okafor", "Adeyemi", "Chukwu", "Balogun", "Eze", "Nwosu"],
                 {"female": ["Amaka", "Ngozi", "Chiamaka"], "male": ["Chinedu", "Emeka", "Tunde"]}),
          "IN": (["Sharma", "Patel", "Singh", "Reddy", "Nair", "Gupta"],
                 {"female": ["Priya", "Ananya", "Kavya"], "male": ["Ravi", "Arjun", "Vikram"]}),
          "AZ": (["Mammadov", "Aliyev", "Hasanov", "Guliyev", "Huseynov"],
                 {"female": ["Leyla", "Aysel", "Gunel"], "male": ["Elvin", "Rashad", "Tural"]}),
          "MA": (["El Amrani", "Benali", "Tazi", "Idrissi", "Alaoui"],
                 {"female": ["Salma", "Imane", "Hajar"], "male": ["Youssef", "Hamza", "Anas"]})}
# Nationality groups: (share, language, nationality, place of birth).
