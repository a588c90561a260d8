package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// customer is one customer of the shop.
type customer struct {
	id, name, email, country, segment, signedUp string
}

// currency is what the customer pays in.
func (c customer) currency() string {
	switch c.country {
	case "GB":
		return "GBP"
	case "US":
		return "USD"
	}
	return "EUR"
}

// validCustomers is how many well-formed customers there are; the malformed
// rows after them take the next ids.
const validCustomers = 150

// country is a market of the shop, with its share of customers (in
// thousandths), its names and the suffix its companies use.
type country struct {
	code    string
	share   int
	first   []string
	last    []string
	company string
}

var countries = []country{
	{"DE", 320, []string{"Lena", "Jonas", "Anna", "Lukas", "Marie", "Felix", "Sophie", "Paul", "Jürgen", "Käthe"},
		[]string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Groß"}, "GmbH"},
	{"FR", 180, []string{"Camille", "Louis", "Léa", "Hugo", "Chloé", "Jules", "Inès", "Théo", "Zoé", "Gabriel"},
		[]string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Lefèvre"}, "SARL"},
	{"NL", 100, []string{"Daan", "Emma", "Sem", "Julia", "Lucas", "Tess", "Finn", "Sanne"},
		[]string{"de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Mulder"}, "B.V."},
	{"ES", 90, []string{"Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Álvaro", "Paula", "Íker"},
		[]string{"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez"}, "S.L."},
	{"IT", 90, []string{"Giulia", "Leonardo", "Sofia", "Francesco", "Aurora", "Alessandro", "Chiara", "Niccolò"},
		[]string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"}, "S.r.l."},
	{"AT", 60, []string{"Florian", "Hannah", "Maximilian", "Leonie", "Tobias", "Valentina"},
		[]string{"Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner"}, "GmbH"},
	{"BE", 50, []string{"Noah", "Olivia", "Arthur", "Louise", "Jules", "Elise"},
		[]string{"Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems"}, "BV"},
	{"IE", 30, []string{"Aoife", "Seán", "Niamh", "Cian", "Saoirse", "Oisín"},
		[]string{"Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Brien", "Byrne"}, "Ltd"},
	{"PT", 20, []string{"João", "Beatriz", "Tomás", "Leonor"},
		[]string{"Silva", "Santos", "Ferreira", "Pereira"}, "Lda."},
	{"FI", 20, []string{"Aino", "Eetu", "Helmi", "Väinö"},
		[]string{"Korhonen", "Virtanen", "Mäkinen", "Nieminen"}, "Oy"},
	{"GB", 20, []string{"Oliver", "Amelia", "George", "Isla", "Harry", "Ava"},
		[]string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson"}, "Ltd"},
	{"US", 20, []string{"Liam", "Emma", "Noah", "Olivia"},
		[]string{"Johnson", "Miller", "Davis", "Garcia"}, "Inc."},
}

// makeCustomers returns the well-formed customers, C0001 to C0150.
func makeCustomers(rng *rand) []customer {
	cs := make([]customer, validCustomers)
	for i := range cs {
		co := pickCountry(rng)
		first, last := pick(rng, co.first), pick(rng, co.last)
		c := customer{id: fmt.Sprintf("C%04d", i+1), country: co.code}
		switch u := rng.intn(100); {
		case u < 70:
			c.segment = "consumer"
			c.name = first + " " + last
			c.email = fmt.Sprintf("%s.%s%d@%s", ascii(first), ascii(last), i+1, pick(rng, []string{"example.com", "example.org", "example.net"}))
		case u < 94:
			c.segment = "smb"
			c.name = companyName(rng, co, last)
			c.email = fmt.Sprintf("orders@%s%d.example", ascii(last), i+1)
		default:
			c.segment = "enterprise"
			c.name = companyName(rng, co, last)
			c.email = fmt.Sprintf("procurement@%s%d.example", ascii(last), i+1)
		}
		// Signed up some day from January 2022 to April 2024; days up to
		// the 28th are valid in every month.
		m := rng.intn(28)
		c.signedUp = fmt.Sprintf("%d-%02d-%02d", 2022+m/12, 1+m%12, 1+rng.intn(28))
		cs[i] = c
	}
	return cs
}

func pickCountry(rng *rand) country {
	n := rng.intn(1000)
	for _, c := range countries {
		if n < c.share {
			return c
		}
		n -= c.share
	}
	return countries[0]
}

func companyName(rng *rand, co country, last string) string {
	switch rng.intn(4) {
	case 0:
		return last + " & Co. " + co.company
	case 1:
		// A comma, so the CSV quotes the field.
		return last + ", " + pick(rng, co.last) + " & Partners " + co.company
	}
	return last + " " + pick(rng, []string{"Trading", "Logistics", "Design", "Foods", "Systems"}) + " " + co.company
}

// ascii turns a name into something an email address can hold.
func ascii(s string) string {
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "Ae",
		"é", "e", "è", "e", "ê", "e", "á", "a", "à", "a", "ã", "a", "í", "i", "Í", "I", "ó", "o",
		"ú", "u", "ñ", "n", "ç", "c", "ò", "o", "Á", "A", "É", "E", "'", "", " ", "")
	return strings.ToLower(r.Replace(s))
}

// writeCustomers writes customers.csv: the customers in id order, some with
// the sloppy formatting clean_customers normalises, and among them a few
// rows it must drop.
func writeCustomers(w io.Writer, rng *rand, cs []customer) {
	cw := csv.NewWriter(w)
	write := func(rec ...string) {
		if err := cw.Write(rec); err != nil {
			panic(err) // writing to a bytes.Buffer does not fail
		}
	}
	write("customer_id", "name", "email", "country", "segment", "signup_date")
	for i, c := range cs {
		name, email, country, segment := c.name, c.email, c.country, c.segment
		// Formatting that cleaning fixes, not drops.
		switch rng.intn(40) {
		case 0:
			name = "  " + name + " "
		case 1:
			country = strings.ToLower(country)
		case 2:
			email = strings.ToUpper(email)
		case 3:
			segment = strings.ToUpper(segment[:1]) + segment[1:]
		}
		write(c.id, name, email, country, segment, c.signedUp)
		switch i {
		case 40:
			// Listed twice by the CRM; the first row wins.
			d := cs[6]
			write(d.id, d.name+" (old)", d.email, d.country, d.segment, d.signedUp)
		case 99:
			// The CRM's own export of a deleted customer: too few fields.
			write("C0156", "Jan Novák", "jan.novak@example.com", "CZ")
		}
	}
	// Customers who do place orders but whose rows are broken.
	write("C0151", "Mia Hoffmann", "mia.hoffmann@example.com", "Germany", "consumer", "2023-06-12")
	write("C0152", "", "buyer@unnamed.example", "FR", "consumer", "2023-09-01")
	write("C0153", "Pietro Gallo", "pietro.gallo@example.com", "IT", "vip", "2022-11-20")
	write("C0154", "Eva Lindqvist", "not-an-email", "FI", "consumer", "2024-01-05")
	write("C0155", "Ruairí Doyle", "ruairi.doyle@example.com", "IE", "smb", "31/12/2023")
	cw.Flush()
	if err := cw.Error(); err != nil {
		panic(err)
	}
}
