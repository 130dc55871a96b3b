import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DATASET_THRESHOLDS, isLiked, loadBookCrossing, loadDelimited } from "../../src/data/index.js";
import { folderWith } from "./helpers.js";

const BOOKS = [
  `"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";"Image-URL-S";"Image-URL-M";"Image-URL-L"`,
  `"0195153448";"Classical Mythology";"Mark P. O. Morford";"2002";"Oxford University Press";"s";"m";"l"`,
  `"034545104X";"Flu: The Story of the Great Influenza Pandemic of 1918 and the Search for the Virus That Caused It";"Gina Bari Kolata";"1999";"Farrar Straus Giroux";"s";"m";"l"`,
  `"0002005018";"Clara Callan; a novel";"Richard Bruce Wright";"0";"HarperFlamingo Canada";"s";"m";"l"`,
  `"0060973129";"Decision in Normandy";"Carlo D'Este";"1991";"HarperPerennial";"s";"m";"l"`,
  `"0399135782";"The Kitchen God's Wife &amp; ""Others""";"Amy Tan";"1991";"Putnam Pub Group";"s";"m";"l"`,
].join("\n");
const USERS = [
  `"User-ID";"Location";"Age"`,
  `"1";"nyc, new york, usa";NULL`,
  `"2";"stockton, california, usa";"18"`,
  `"8";"timmins, ontario, canada";NULL`,
].join("\n");
const RATINGS = [
  `"User-ID";"ISBN";"Book-Rating"`,
  `"2";"0195153448";"0"`,
  `"8";"0002005018";"5"`,
  `"8";"034545104X";"9"`,
  `"1";"0399135782";"10"`,
  `"1";"9999999999";"8"`,
  `"5";"0195153448";"8"`,
].join("\n");

describe("Book-Crossing loader", () => {
  const d = loadBookCrossing(
    folderWith({
      "BX-Books.csv": `${BOOKS}\n`,
      "BX-Users.csv": `${USERS}\n`,
      "BX-Book-Ratings.csv": `${RATINGS}\n`,
    }),
  );

  it("orders books by ISBN string, keeps leading zeros, decodes entities and quotes", () => {
    expect(d.catalog.items.map((i) => i.sourceId)).toEqual([
      "0002005018",
      "0060973129",
      "0195153448",
      "034545104X",
      "0399135782",
    ]);
    expect(d.catalog.items[0].title).toBe("Clara Callan; a novel");
    expect(d.catalog.items[0].year).toBeNull();
    expect(d.catalog.items[4].title).toBe('The Kitchen God\'s Wife & "Others"');
    expect(d.catalog.items[4].year).toBe(1991);
    expect(d.catalog.items[4].extra.author).toBe("Amy Tan");
  });

  it("reads users with NULL ages, rating 0 as implicit (NaN), drops unknown books and users", () => {
    expect(d.catalog.users.map((u) => [u.sourceId, u.age])).toEqual([
      [1, null],
      [2, 18],
      [8, null],
    ]);
    expect(d.catalog.users[0].extra.location).toBe("nyc, new york, usa");
    expect(d.interactions.length).toBe(4);
    const r = Array.from(d.interactions.ratings);
    expect(r.filter(Number.isNaN)).toHaveLength(1);
    expect(r.filter((x) => isLiked(x, DATASET_THRESHOLDS["book-crossing"]))).toEqual([9, 10]);
    expect(d.notes).toEqual([
      expect.stringMatching(/1 ratings of ISBNs missing from BX-Books.csv dropped/),
      expect.stringMatching(/1 ratings of users missing from BX-Users.csv dropped/),
    ]);
  });
});

describe("generic delimited loader", () => {
  const dir = folderWith(
    {
      "ratings.tsv":
        "uid\tiid\tstars\twhen\nu7\tb\t4.5\t2020-01-02T00:00:00Z\nu2\ta\t3\t2020-01-01T00:00:00Z\nu7\ta\t1\t1577836800\n",
      "items.csv":
        'id,name,tags,yr\na,"Shawshank Redemption, The",Drama|Crime,1994\nb,Boot&#44; Das,,1981\nc,Unseen,,\n',
      "users.csv": "user,age,sex,job,city\nu2,30,F,nurse,Oslo\nu7,,M,,Rome\n",
    },
    "utf8",
  );
  const d = loadDelimited({
    name: "mine",
    ratings: {
      path: join(dir, "ratings.tsv"),
      sep: "\t",
      columns: { user: "uid", item: "iid", rating: "stars", timestamp: "when" },
      ratingRange: [0.5, 5],
    },
    items: {
      path: join(dir, "items.csv"),
      columns: { item: "id", title: "name", genres: "tags", year: "yr" },
    },
    users: {
      path: join(dir, "users.csv"),
      columns: { user: 0, age: "age", gender: "sex", occupation: "job", features: ["city"] },
    },
  });

  it("maps columns by name or position, with items and user features", () => {
    expect(d.catalog.dataset).toBe("mine");
    expect(d.catalog.items.map((i) => [i.sourceId, i.title, i.year, i.genres])).toEqual([
      ["a", "The Shawshank Redemption", 1994, ["Drama", "Crime"]],
      ["b", "Das Boot", 1981, []],
      ["c", "Unseen", null, []],
    ]);
    expect(d.catalog.users.map((u) => [u.sourceId, u.age, u.gender, u.occupation, u.extra.city])).toEqual([
      ["u2", 30, "F", "nurse", "Oslo"],
      ["u7", null, "M", null, "Rome"],
    ]);
    expect(d.interactions.length).toBe(3);
    expect(Array.from(d.interactions.timestamps)).toEqual([1577923200, 1577836800, 1577836800]);
    expect(Array.from(d.interactions.ratings)).toEqual([4.5, 3, 1]);
  });

  it("rejects an unknown column and out-of-range ratings", () => {
    expect(() =>
      loadDelimited({
        ratings: { path: join(dir, "ratings.tsv"), sep: "\t", columns: { user: "user", item: "iid" } },
      }),
    ).toThrow(/no column "user" for user \(columns: "uid", "iid", "stars", "when"\)/);
    expect(() =>
      loadDelimited({
        ratings: {
          path: join(dir, "ratings.tsv"),
          sep: "\t",
          columns: { user: 0, item: 1, rating: 2 },
          ratingRange: [1, 4],
        },
      }),
    ).toThrow(/ratings.tsv:2, field "stars": rating 4.5 out of range/);
  });

  it("without item or user files, ids come from the ratings in numeric order", () => {
    const d2 = folderWith({ "r.csv": "10,3,5\n9,20,4\n10,20,1\n" });
    const x = loadDelimited({
      ratings: { path: join(d2, "r.csv"), header: false, columns: { user: 0, item: 1, rating: 2 } },
    });
    expect(x.catalog.users.map((u) => u.sourceId)).toEqual([9, 10]);
    expect(x.catalog.items.map((i) => i.sourceId)).toEqual([3, 20]);
    expect(x.catalog.items[1].title).toBe("20");
  });
});
