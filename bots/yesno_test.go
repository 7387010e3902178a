package bots

import "testing"

func TestParseYesNo(t *testing.T) {
	tests := []struct {
		text, payload string
		want          YesNo
	}{
		{"", PayloadHelpYes, Yes},
		{"whatever", PayloadHelpNo, No},
		{"1", "", Yes},
		{"2", "", No},
		{"Yes!", "", Yes},
		{"yes thanks", "", Yes},
		{"Thank you", "", Yes},
		{"no", "", No},
		{"Not really.", "", No},
		{"no, I want to return the shoes I bought", "", No},
		{"Evet", "", Yes},
		{"teşekkürler", "", Yes},
		{"Hayır", "", No},
		{"olmadı", "", No},
		{"Да, спасибо", "", Yes},
		{"Нет", "", No},
		{"не помогло", "", No},
		{"where is my order 12345", "", Neither},
		{"yes but can you also tell me about the sizes of the running shoes", "", Neither},
		{"12", "", Neither},
		{"", "", Neither},
	}
	for _, tc := range tests {
		t.Run(tc.text+tc.payload, func(t *testing.T) {
			if got := ParseYesNo(tc.text, tc.payload); got != tc.want {
				t.Fatalf("ParseYesNo(%q, %q) = %v, want %v", tc.text, tc.payload, got, tc.want)
			}
		})
	}
}
